# Warnings live here and only here. PINPIPE_WERROR is turned on by CI (scripts/test).
add_library(pinpipe_warnings INTERFACE)
target_compile_options(pinpipe_warnings INTERFACE -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string at -O2 (GCC bug 105329).
  target_compile_options(pinpipe_warnings INTERFACE -Wno-restrict)
endif()
if(PINPIPE_WERROR)
  target_compile_options(pinpipe_warnings INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_UNITY_BUILD)
  # A unity build (preset release) #includes each .cc into a generated file; GCC then reports a
  # class of a .cc that uses a type of the .cc's anonymous namespace, which is only a problem when
  # the class is in a real header included by several files.
  target_compile_options(pinpipe_warnings INTERFACE -Wno-subobject-linkage)
endif()
