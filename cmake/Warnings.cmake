# Warning set for all targets; -Wconversion only on the pure core (resource arithmetic).
set(CORRAL_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
    -Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla -Wundef -Wimplicit-fallthrough
    -Wnull-dereference -Wdouble-promotion)
if(CORRAL_WERROR)
  list(APPEND CORRAL_WARNINGS -Werror)
endif()
add_compile_options(${CORRAL_WARNINGS})
set(CORRAL_CORE_WARNINGS -Wconversion)
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  add_compile_options(-D_FORTIFY_SOURCE=2 -fstack-protector-strong)
endif()
