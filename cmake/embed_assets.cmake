# pinpipe_embed_assets(<target> BASE_DIR <dir> FILES <file>...)
#
# Makes the static library <target> holding the files (paths relative to BASE_DIR) as the table
# of dashboard::BundledAssets() (src/dashboard/assets.h). The table is generated at build time by
# cmake/embed_assets_script.cmake, so editing a file rebuilds it. Content types come from the
# file extension.
function(pinpipe_embed_assets target)
  cmake_parse_arguments(ARG "" "BASE_DIR" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}.cc)
  set(inputs)
  foreach(f ${ARG_FILES})
    list(APPEND inputs ${ARG_BASE_DIR}/${f})
  endforeach()
  string(REPLACE ";" "|" files_arg "${ARG_FILES}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DBASE_DIR=${ARG_BASE_DIR} "-DFILES=${files_arg}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_assets_script.cmake
    DEPENDS ${inputs} ${CMAKE_SOURCE_DIR}/cmake/embed_assets_script.cmake
    COMMENT "Embedding ${target} (${ARG_BASE_DIR})"
    VERBATIM)
  add_library(${target} STATIC ${out})
  target_link_libraries(${target} PRIVATE pinpipe_warnings)
endfunction()
