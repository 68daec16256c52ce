# The Debian package `bttnode` (`cpack -G DEB` in the build folder): the program in /usr/bin,
# the systemd unit, the default config as a conffile, and the README. Its Depends come from
# the libraries the program links (dpkg-shlibdeps), so it installs wherever they resolve
# (Debian 12). The package makes the `bttnode` system user the unit runs as.

install(TARGETS bttnode RUNTIME DESTINATION bin)
install(FILES ${CMAKE_SOURCE_DIR}/configs/bttnode.service
        DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/configs/bttnode.json
        DESTINATION /etc/bttnode RENAME config.json)
install(FILES ${CMAKE_SOURCE_DIR}/README.md
        DESTINATION share/doc/bttnode)
install(FILES ${CMAKE_SOURCE_DIR}/configs/bttnode.json
        DESTINATION share/doc/bttnode/examples RENAME config.json)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bttnode)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "bttnode maintainers <bttnode@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "BitTorrent node that earns and pays BTT on TRON")
set(CPACK_PACKAGE_DESCRIPTION
    "bttnode seeds and downloads torrents and pays or is paid in BTT for the bytes it\n\
serves, over the btt_pay extension. `bttnode run` is a daemon for many torrents, driven\n\
by Transmission remotes over the Transmission RPC, with a web dashboard and Prometheus\n\
metrics.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser makes the system user; the shlibdeps are appended to this list.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/cmake/debian/conffiles
    ${CMAKE_SOURCE_DIR}/cmake/debian/postinst
    ${CMAKE_SOURCE_DIR}/cmake/debian/prerm
    ${CMAKE_SOURCE_DIR}/cmake/debian/postrm)

include(CPack)
