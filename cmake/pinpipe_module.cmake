# pinpipe_module: declares one module's library, pinpipe_<NAME>, from src/<NAME>/.
#
#   pinpipe_module(NAME <name>
#     [SUBDIRS <dir>...]          # folders of src/<name>/ whose .cc also belong to it (internal)
#     [SOURCES <file>...]         # further sources (generated ones)
#     [DEPS <dep>...]             # PUBLIC: what the module's headers include
#     [PRIVATE_DEPS <dep>...])    # PRIVATE: what only its .cc files include
#
# The sources are every *.cc of src/<name>/ (and of each SUBDIRS folder) except *_test.cc. A dep
# without "::" is a pinpipe library named without its prefix (core -> pinpipe_core); one with
# "::" is an imported target as is (PkgConfig::LIBPQ, fmt::fmt, Threads::Threads). The rule for
# the lists (docs/design.md, "Build and style checks"): a module's DEPS are exactly the modules
# and packages its headers #include (they reach every user), its PRIVATE_DEPS those only its .cc
# files include; nothing is listed that no #include uses, and a module never relies on another
# module's deps for a header it includes itself. Threads::Threads goes with std::thread/jthread/
# async in a header (DEPS) or only in .cc files (PRIVATE_DEPS). pinpipe_warnings is always added
# (PRIVATE).
function(pinpipe_module)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME" "SUBDIRS;SOURCES;DEPS;PRIVATE_DEPS")
  if(NOT arg_NAME)
    message(FATAL_ERROR "pinpipe_module: NAME is required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "pinpipe_module(${arg_NAME}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  set(globs ${dir}/*.cc)
  foreach(sub IN LISTS arg_SUBDIRS)
    list(APPEND globs ${dir}/${sub}/*.cc)
  endforeach()
  file(GLOB sources CONFIGURE_DEPENDS ${globs})
  list(FILTER sources EXCLUDE REGEX "_test\\.cc$")
  set(target pinpipe_${arg_NAME})
  add_library(${target} STATIC ${sources} ${arg_SOURCES})
  foreach(scope PUBLIC PRIVATE)
    if(scope STREQUAL "PUBLIC")
      set(deps ${arg_DEPS})
    else()
      set(deps ${arg_PRIVATE_DEPS})
    endif()
    set(targets)
    foreach(dep IN LISTS deps)
      if(dep MATCHES "::")
        list(APPEND targets ${dep})
      else()
        list(APPEND targets pinpipe_${dep})
      endif()
    endforeach()
    if(targets)
      target_link_libraries(${target} ${scope} ${targets})
    endif()
  endforeach()
  target_link_libraries(${target} PRIVATE pinpipe_warnings)
endfunction()
