# CORRAL_SANITIZE=address,undefined | thread
if(CORRAL_SANITIZE)
  set(_san -fsanitize=${CORRAL_SANITIZE} -fno-omit-frame-pointer)
  if(CORRAL_SANITIZE MATCHES "undefined")
    list(APPEND _san -fno-sanitize-recover=all)
  endif()
  add_compile_options(${_san})
  add_link_options(${_san})
endif()
