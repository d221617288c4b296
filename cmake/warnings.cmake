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
