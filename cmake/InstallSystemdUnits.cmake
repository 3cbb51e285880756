# Run by `cmake --install` (install(SCRIPT) in CMakeLists.txt), after the programs: installs
# the systemd units of deploy/systemd/ with their ExecStart= pointing at the installed
# programs. The units in the tree name /usr/local/bin/ (the default prefix), so that they are
# usable as they are; here that becomes the bin directory of the prefix given at install time
# (`cmake --install build --prefix /usr` gives ExecStart=/usr/bin/corrald). DESTDIR is
# honoured by file(INSTALL).
# In: CORRAL_UNIT_SRC_DIR, CORRAL_UNIT_OUT_DIR (a scratch dir in the build tree), CORRAL_UNITS
# (names), CORRAL_UNIT_BINDIR and CORRAL_UNIT_DIR (absolute, or relative to the prefix).
foreach(var CORRAL_UNIT_SRC_DIR CORRAL_UNIT_OUT_DIR CORRAL_UNITS CORRAL_UNIT_BINDIR
            CORRAL_UNIT_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "InstallSystemdUnits.cmake: ${var} is not set")
  endif()
endforeach()

set(bindir "${CORRAL_UNIT_BINDIR}")
if(NOT IS_ABSOLUTE "${bindir}")
  set(bindir "${CMAKE_INSTALL_PREFIX}/${bindir}")
endif()
set(unitdir "${CORRAL_UNIT_DIR}")
if(NOT IS_ABSOLUTE "${unitdir}")
  set(unitdir "${CMAKE_INSTALL_PREFIX}/${unitdir}")
endif()

file(MAKE_DIRECTORY "${CORRAL_UNIT_OUT_DIR}")
foreach(unit IN LISTS CORRAL_UNITS)
  file(READ "${CORRAL_UNIT_SRC_DIR}/${unit}" text)
  string(FIND "${text}" "\nExecStart=/usr/local/bin/" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${CORRAL_UNIT_SRC_DIR}/${unit}: no ExecStart=/usr/local/bin/ line")
  endif()
  string(REPLACE "\nExecStart=/usr/local/bin/" "\nExecStart=${bindir}/" text "${text}")
  file(WRITE "${CORRAL_UNIT_OUT_DIR}/${unit}" "${text}")
  file(INSTALL DESTINATION "${unitdir}" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${CORRAL_UNIT_OUT_DIR}/${unit}")
endforeach()
