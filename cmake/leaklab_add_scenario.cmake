# leaklab_add_scenario(NAME <name> SOURCES <file>... [TESTS <file>...])
#
# Builds one scenario, called from scenarios/<name>/CMakeLists.txt:
#   - SOURCES (the leak, its fix, its Info()) become the library
#     leaklab_scenario_<name>, on the scenario runtime, and join
#     leaklab_scenarios, the library of scenarios/catalog.cc, so that
#     leaklab-scenario can serve the scenario once the catalog lists it;
#   - each file in TESTS becomes a GoogleTest executable named after the file
#     (cache_test.cc -> cache_test), linked with this scenario alone, its
#     cases run by ctest.
# NAME must be the folder's name, which is also the name in the catalog and
# on the command line (`leaklab run <name>`).
function(leaklab_add_scenario)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME" "SOURCES;TESTS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "leaklab_add_scenario: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_NAME OR NOT arg_SOURCES)
    message(FATAL_ERROR "leaklab_add_scenario: NAME and SOURCES are required")
  endif()
  get_filename_component(folder "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  if(NOT folder STREQUAL arg_NAME)
    message(FATAL_ERROR "leaklab_add_scenario: scenario '${arg_NAME}' is in folder '${folder}'; "
                        "a scenario lives in scenarios/<its name>")
  endif()

  string(REPLACE "-" "_" id "${arg_NAME}")
  set(lib leaklab_scenario_${id})
  add_library(${lib} ${arg_SOURCES})
  target_link_libraries(${lib} PUBLIC leaklab_runtime leaklab_json)
  target_link_libraries(leaklab_scenarios PUBLIC ${lib})

  foreach(test_source IN LISTS arg_TESTS)
    get_filename_component(test "${test_source}" NAME_WE)
    add_executable(${test} ${test_source})
    target_link_libraries(${test} PRIVATE ${lib} GTest::gtest_main)
    gtest_discover_tests(${test})
  endforeach()
endfunction()
