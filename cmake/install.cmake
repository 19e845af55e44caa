# `cmake --install`: the osio binary, its man pages, data files (keymaps, examples), docs, bash
# completion and systemd units, in the GNU directories under CMAKE_INSTALL_PREFIX.
include(GNUInstallDirs)

install(TARGETS osio RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Man pages: every share/man/*.N goes to man/manN, gzip-compressed (-n: no name or time stamp, as
# Debian's dh_compress does) when gzip is there.
find_program(OSIO_GZIP gzip)
file(GLOB OSIO_MAN_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/share/man/*.[1-9])
set(OSIO_MAN_OUT)
foreach(page ${OSIO_MAN_PAGES})
	get_filename_component(name ${page} NAME)
	string(REGEX REPLACE ".*\\.([1-9])$" "\\1" section ${name})
	if(OSIO_GZIP)
		set(out ${CMAKE_BINARY_DIR}/man/${name}.gz)
		add_custom_command(OUTPUT ${out}
			COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
			COMMAND ${OSIO_GZIP} -9 -n -c ${page} > ${out}
			DEPENDS ${page}
			COMMENT "Compressing man page ${name}"
			VERBATIM)
		list(APPEND OSIO_MAN_OUT ${out})
		install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
	else()
		install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
	endif()
endforeach()
add_custom_target(osio_man ALL DEPENDS ${OSIO_MAN_OUT})

# Data osio reads at run time: keymaps, found next to the binary (bin/../share/osio/keymaps,
# vnc/keymap.c). The examples are data too (osio run / osio import take them).
file(GLOB OSIO_KEYMAPS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/share/keymaps/*)
# Their README (the format) is documentation; xkb2osio.py a tool for the source tree.
list(FILTER OSIO_KEYMAPS EXCLUDE REGEX "(\\.py|/README)$")
install(FILES ${OSIO_KEYMAPS} DESTINATION ${CMAKE_INSTALL_DATADIR}/osio/keymaps)
install(FILES ${PROJECT_SOURCE_DIR}/share/keymaps/README DESTINATION ${CMAKE_INSTALL_DOCDIR}
	RENAME README.keymaps)
file(GLOB OSIO_EXAMPLES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/share/examples/*.vmconfig)
install(FILES ${OSIO_EXAMPLES} DESTINATION ${CMAKE_INSTALL_DATADIR}/osio/examples)

# Documents.
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/share/doc/control-api.md
	DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Bash completion, where bash-completion's pkg-config file says completions go, taken relative to
# its prefix so that ours is honoured (share/bash-completion/completions).
install(FILES ${PROJECT_SOURCE_DIR}/share/completion/osio.bash
	DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME osio)

# systemd units and their tmpfiles/sysusers snippets, each when it is in the tree. A file naming
# @BINDIR@ gets the installed bindir in its place (ExecStart=@BINDIR@/osio autostart ->
# /usr/bin/osio autostart), worked out when installing so that `cmake --install --prefix DIR`
# and DESTDIR are honoured (cmake/install-unit.cmake); nothing else in it changes. systemd looks
# in lib/systemd/system under /usr and /usr/local, never in lib/x86_64-linux-gnu: these use
# "lib", not CMAKE_INSTALL_LIBDIR.
set(OSIO_SYSTEMD_FILES
	"osio.service systemd/system osio.service"
	"osio-console@.service systemd/system osio-console@.service"
	"tmpfiles.conf tmpfiles.d osio.conf"
	"sysusers.conf sysusers.d osio.conf")
# The glob makes the build look again when one appears.
file(GLOB OSIO_SYSTEMD_PRESENT CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/share/systemd/*)
foreach(entry ${OSIO_SYSTEMD_FILES})
	separate_arguments(entry)
	list(GET entry 0 src)
	list(GET entry 1 dir)
	list(GET entry 2 dst)
	if(EXISTS ${PROJECT_SOURCE_DIR}/share/systemd/${src})
		install(CODE "
			set(OSIO_UNIT_SRC [[${PROJECT_SOURCE_DIR}/share/systemd/${src}]])
			set(OSIO_UNIT_TMP [[${CMAKE_BINARY_DIR}/systemd/${dir}/${dst}]])
			set(OSIO_UNIT_DIR [[lib/${dir}]])
			set(OSIO_UNIT_BINDIR [[${CMAKE_INSTALL_BINDIR}]])
			include([[${PROJECT_SOURCE_DIR}/cmake/install-unit.cmake]])")
	endif()
endforeach()
