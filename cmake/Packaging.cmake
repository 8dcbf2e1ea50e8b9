# Installation layout and the Debian package. `cpack -G DEB` in the build directory (or
# scripts/package.sh) writes credgate_<version>_<arch>.deb, which installs:
#   /usr/bin/credgate
#   /etc/credgate/credgate.yaml            example configuration, a conffile
#   /lib/systemd/system/credgate.service   the unit, which runs as the system user credgate
#   /usr/share/doc/credgate/               README.md and docs/
# The maintainer scripts create the user and /var/lib/credgate on install and remove both on
# purge.

install(FILES ${CMAKE_SOURCE_DIR}/packaging/credgate.yaml DESTINATION /etc/credgate
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/credgate.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/credgate)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION share/doc/credgate/docs)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME credgate)
set(CPACK_PACKAGE_VENDOR credgate)
set(CPACK_PACKAGE_CONTACT "credgate maintainers <credgate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "API gateway with a built-in OAuth 2.0 credential manager")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/postinst
    ${CMAKE_SOURCE_DIR}/packaging/prerm
    ${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only the server goes into the package; libraries and tests are not installed.
set(CPACK_STRIP_FILES ON)
include(CPack)
