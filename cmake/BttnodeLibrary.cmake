# One static library per top folder. Sources are picked up by glob so that adding a file
# needs no build-file edit; headers live next to their sources and are included as
# "folder/name.hpp" from the project root.
# Extra arguments are sub-folders that are libraries of their own and so are left out.
function(bttnode_library name folder)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${folder}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "/main\\.cpp$")
  foreach(sub IN LISTS ARGN)
    list(FILTER sources EXCLUDE REGEX "^${CMAKE_SOURCE_DIR}/${folder}/${sub}/")
  endforeach()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${BTTNODE_WARNINGS})
endfunction()
