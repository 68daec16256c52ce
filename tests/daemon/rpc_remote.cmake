# Debian's transmission-remote 3.00 driving `bttnode run` against libtorrent peers, and the
# torrent-get timing of 1,000 torrents (label bench: it prints the median, it asserts only
# that every torrent is answered).
add_test(NAME daemon.rpc_remote
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/rpc_remote.py
                 --bttnode $<TARGET_FILE:bttnode> remote)
set_tests_properties(daemon.rpc_remote PROPERTIES TIMEOUT 240 LABELS daemon)
add_test(NAME daemon.rpc_torrent_get_1000
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/rpc_remote.py
                 --bttnode $<TARGET_FILE:bttnode> bench_torrent_get)
set_tests_properties(daemon.rpc_torrent_get_1000 PROPERTIES TIMEOUT 600 LABELS "daemon;bench")
