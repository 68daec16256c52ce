# The daemon's dashboard (headless Chromium) and /metrics (promtool) against `bttnode run`.
# Included from tests/CMakeLists.txt; the screenshot is kept in the build folder.
foreach(scenario dashboard metrics)
  add_test(NAME daemon.web_${scenario}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/web_test.py
                   --bttnode $<TARGET_FILE:bttnode> ${scenario})
  set_tests_properties(daemon.web_${scenario} PROPERTIES TIMEOUT 180 LABELS daemon
    ENVIRONMENT "BTTNODE_SCREENSHOT_DIR=${CMAKE_CURRENT_BINARY_DIR}/daemon;NO_COLOR=1")
endforeach()
