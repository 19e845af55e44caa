# Run by `cmake --install` (cmake/install.cmake) for one systemd file: @BINDIR@ becomes the bindir
# under the prefix being installed to, and the file goes into OSIO_UNIT_DIR under that prefix.
set(bindir ${OSIO_UNIT_BINDIR})
if(NOT IS_ABSOLUTE "${bindir}")
	set(bindir "${CMAKE_INSTALL_PREFIX}/${bindir}")
endif()
file(READ "${OSIO_UNIT_SRC}" text)
string(REPLACE "@BINDIR@" "${bindir}" text "${text}")
file(WRITE "${OSIO_UNIT_TMP}" "${text}")
# file(INSTALL) puts DESTDIR in front and lists the file in install_manifest.txt.
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/${OSIO_UNIT_DIR}" TYPE FILE
	FILES "${OSIO_UNIT_TMP}")
