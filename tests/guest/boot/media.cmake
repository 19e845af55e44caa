# Boot-media programs (boot/): the same freestanding C as the multiboot programs, entered by
# SeaBIOS from an El Torito DVD or an MBR disk through a 16-bit stub, and the media themselves
# (xorriso ISOs, raw disks) with the host tools that build and check them. Included from
# ../CMakeLists.txt after the library objects are defined.

set(BOOT_SRC ${GUEST_SRC}/boot)
set(BOOT_OUT ${GUEST_OUT}/boot)
set(MEDIA_OUT ${GUEST_OUT}/media)
file(MAKE_DIRECTORY ${BOOT_OUT} ${MEDIA_OUT})

if(NOT CMAKE_OBJCOPY)
	find_program(CMAKE_OBJCOPY objcopy REQUIRED)
endif()
find_program(GUEST_XORRISO xorriso)

# Host tools (project flags: they run on the host, sanitizers and all).
add_executable(guest_mkmedia ${GUEST_SRC}/tools/mkmedia.c)
add_executable(guest_imgcmp ${GUEST_SRC}/tools/imgcmp.c)
target_link_libraries(guest_imgcmp PRIVATE PkgConfig::PNG)

# The library as an archive: a boot program takes only what it uses (not the multiboot entry).
set(GUEST_LIB_ARCHIVE ${GUEST_OUT}/libguest.a)
add_custom_command(OUTPUT ${GUEST_LIB_ARCHIVE}
	COMMAND ${CMAKE_COMMAND} -E rm -f ${GUEST_LIB_ARCHIVE}
	COMMAND ${CMAKE_AR} rcs ${GUEST_LIB_ARCHIVE} ${GUEST_LIB_OBJECTS}
	DEPENDS ${GUEST_LIB_OBJECTS}
	COMMENT "Guest: archiving libguest.a"
	VERBATIM)

# The runtime every boot program links: mode switches, BIOS calls, IDE, verification.
file(GLOB BOOT_RUNTIME_SOURCES CONFIGURE_DEPENDS ${BOOT_SRC}/*.c ${BOOT_SRC}/realmode.S)
set(BOOT_RUNTIME_OBJECTS)
foreach(src ${BOOT_RUNTIME_SOURCES})
	guest_object(${src} obj)
	list(APPEND BOOT_RUNTIME_OBJECTS ${obj})
endforeach()

# The stub, once per medium sector size.
foreach(medium cd disk)
	if(medium STREQUAL "cd")
		set(size 2048)
	else()
		set(size 512)
	endif()
	set(obj ${GUEST_OUT}/obj/boot_stub_${medium}.o)
	add_custom_command(OUTPUT ${obj}
		COMMAND ${CMAKE_C_COMPILER} ${GUEST_CFLAGS} -DBOOT_SECTOR_SIZE=${size}
			-MD -MF ${obj}.d -c ${BOOT_SRC}/stub.S -o ${obj}
		DEPENDS ${BOOT_SRC}/stub.S
		DEPFILE ${obj}.d
		COMMENT "Guest: assembling the ${medium} boot stub"
		VERBATIM)
	set(BOOT_STUB_${medium} ${obj})
endforeach()

set(BOOT_LDFLAGS -m32 -nostdlib -static -no-pie -Wl,-T,${BOOT_SRC}/boot.ld
	-Wl,--build-id=none -Wl,--no-warn-rwx-segments)

# boot_image(NAME MEDIUM SOURCES...): ${BOOT_OUT}/NAME-MEDIUM.elf and the flat image .bin.
function(boot_image name medium)
	set(objs)
	foreach(src ${ARGN})
		guest_object(${src} obj)
		list(APPEND objs ${obj})
	endforeach()
	set(elf ${BOOT_OUT}/${name}-${medium}.elf)
	set(bin ${BOOT_OUT}/${name}-${medium}.bin)
	add_custom_command(OUTPUT ${elf} ${bin}
		COMMAND ${CMAKE_C_COMPILER} ${BOOT_LDFLAGS} -o ${elf} ${BOOT_STUB_${medium}} ${objs}
			${BOOT_RUNTIME_OBJECTS} ${GUEST_LIB_ARCHIVE}
		COMMAND ${CMAKE_OBJCOPY} -O binary ${elf} ${bin}
		DEPENDS ${BOOT_STUB_${medium}} ${objs} ${BOOT_RUNTIME_OBJECTS} ${GUEST_LIB_ARCHIVE}
			${BOOT_SRC}/boot.ld
		COMMENT "Guest: linking the boot image ${name}-${medium}"
		VERBATIM)
	set(BOOT_MEDIA_FILES ${BOOT_MEDIA_FILES} ${bin} PARENT_SCOPE)
endfunction()

# boot_dvd(NAME IMAGE PATTERN_SECTORS): ${MEDIA_OUT}/NAME.iso from IMAGE-cd.bin.
function(boot_dvd name image sectors)
	set(iso ${MEDIA_OUT}/${name}.iso)
	set(bin ${BOOT_OUT}/${image}-cd.bin)
	if(NOT GUEST_XORRISO)
		return()
	endif()
	add_custom_command(OUTPUT ${iso}
		COMMAND ${BOOT_SRC}/mkiso.sh ${iso} ${bin} ${sectors} $<TARGET_FILE:guest_mkmedia>
		DEPENDS ${bin} ${BOOT_SRC}/mkiso.sh guest_mkmedia
		COMMENT "Guest: building the DVD ${name}.iso"
		VERBATIM)
	set(BOOT_MEDIA_FILES ${BOOT_MEDIA_FILES} ${iso} PARENT_SCOPE)
endfunction()

# boot_disk(NAME IMAGE SECTORS WRITE_LBA WRITE_COUNT): ${MEDIA_OUT}/NAME.img from IMAGE-disk.bin.
function(boot_disk name image sectors wlba wcount)
	set(img ${MEDIA_OUT}/${name}.img)
	set(bin ${BOOT_OUT}/${image}-disk.bin)
	add_custom_command(OUTPUT ${img}
		COMMAND guest_mkmedia disk ${img} ${bin} ${sectors} ${wlba} ${wcount}
		DEPENDS ${bin} guest_mkmedia
		COMMENT "Guest: building the disk ${name}.img"
		VERBATIM)
	set(BOOT_MEDIA_FILES ${BOOT_MEDIA_FILES} ${img} PARENT_SCOPE)
endfunction()

set(BOOT_MEDIA_FILES)
boot_image(dvd cd ${BOOT_SRC}/progs/dvd.c)
boot_dvd(dvd dvd 512)
# The same DVD with one pattern sector changed: the program must notice (negative test).
if(GUEST_XORRISO)
	add_custom_command(OUTPUT ${MEDIA_OUT}/dvd-corrupt.iso
		COMMAND ${CMAKE_COMMAND} -E copy ${MEDIA_OUT}/dvd.iso ${MEDIA_OUT}/dvd-corrupt.iso
		COMMAND guest_mkmedia corrupt-iso ${MEDIA_OUT}/dvd-corrupt.iso 100
		DEPENDS ${MEDIA_OUT}/dvd.iso guest_mkmedia
		COMMENT "Guest: building the corrupt DVD dvd-corrupt.iso"
		VERBATIM)
	list(APPEND BOOT_MEDIA_FILES ${MEDIA_OUT}/dvd-corrupt.iso)
endif()
boot_image(disk disk ${BOOT_SRC}/progs/disk.c)
boot_disk(disk disk 4096 3000 200)
foreach(prog vgatext vga13 vbe)
	boot_image(${prog} disk ${BOOT_SRC}/progs/${prog}.c)
	boot_disk(${prog} ${prog} 1024 0 0)
endforeach()
boot_image(banner cd ${BOOT_SRC}/progs/banner.c)
boot_dvd(banner banner 16)
# The DMA benchmark (scripts/bench-firmware builds its own 256 MiB disk); a small disk for ctest.
boot_image(dmabench disk ${BOOT_SRC}/progs/dmabench.c)
boot_disk(dmabench dmabench 32768 0 0)
# The multiboot ACPI program, booted by SeaBIOS from a DVD: it must find SeaBIOS's own tables.
boot_image(acpi cd ${GUEST_SRC}/progs/acpi.c)
boot_dvd(acpi acpi 16)
add_custom_target(guest_boot_media ALL DEPENDS ${BOOT_MEDIA_FILES})

# boot_test(NAME (DVD iso | DISK img | SCRATCH_DISK img) [BOOT order] [MEMORY m] [CPUS n]
#           [SCREENSHOT] [SCREEN_TEXT] [EXPECT_TEXT text] [POWERS_OFF] [EXPECT_STATUS s]
#           [TIMEOUT s] [LABELS ...]): ctest guest/NAME runs differential.sh on the medium
# (built under ${MEDIA_OUT}); the outputs of the last run stay in results/NAME/.
function(boot_test name)
	cmake_parse_arguments(B "SCREENSHOT;SCREEN_TEXT;POWERS_OFF"
		"DVD;DISK;SCRATCH_DISK;BOOT;MEMORY;CPUS;EXPECT_TEXT;EXPECT_STATUS;TIMEOUT" "LABELS"
		${ARGN})
	foreach(var MEMORY CPUS EXPECT_STATUS TIMEOUT)
		set(default_MEMORY 128M)
		set(default_CPUS 1)
		set(default_EXPECT_STATUS 0)
		set(default_TIMEOUT 120)
		if(NOT B_${var})
			set(B_${var} ${default_${var}})
		endif()
	endforeach()
	set(args --osio $<TARGET_FILE:osio> --outdir ${GUEST_OUT}/results/${name}
		--memory ${B_MEMORY} --cpus ${B_CPUS} --expect-status ${B_EXPECT_STATUS}
		--timeout ${B_TIMEOUT})
	if(B_DVD)
		list(APPEND args --dvd ${MEDIA_OUT}/${B_DVD})
	endif()
	if(B_DISK)
		list(APPEND args --disk ${MEDIA_OUT}/${B_DISK})
	endif()
	if(B_SCRATCH_DISK)
		list(APPEND args --scratch-disk ${MEDIA_OUT}/${B_SCRATCH_DISK}
			--mkmedia $<TARGET_FILE:guest_mkmedia>)
	endif()
	if(B_BOOT)
		list(APPEND args --boot ${B_BOOT})
	endif()
	if(B_SCREENSHOT)
		list(APPEND args --screenshot --imgcmp $<TARGET_FILE:guest_imgcmp>)
	endif()
	if(B_SCREEN_TEXT)
		list(APPEND args --screen-text)
	endif()
	if(B_EXPECT_TEXT)
		list(APPEND args --expect-text ${B_EXPECT_TEXT})
	endif()
	if(B_POWERS_OFF)
		list(APPEND args --powers-off)
	endif()
	if(B_DVD AND NOT GUEST_XORRISO)
		# Without xorriso there is no DVD to boot: say so instead of failing obscurely.
		set(why "xorriso not found: install the Debian package xorriso (scripts/install-deps.sh)")
		add_test(NAME guest/${name} COMMAND sh -c "echo 'SKIP: ${why}'; exit 77")
	else()
		add_test(NAME guest/${name} COMMAND ${GUEST_SRC}/differential.sh ${args})
	endif()
	math(EXPR total "2 * ${B_TIMEOUT} + 60")
	set_tests_properties(guest/${name} PROPERTIES LABELS "guest;firmware;${B_LABELS}"
		TIMEOUT ${total} SKIP_RETURN_CODE 77)
endfunction()

# Reading the media: every sector through the BIOS and the controller.
boot_test(dvd-read DVD dvd.iso)
boot_test(disk-rw SCRATCH_DISK disk.img)
# The checks can fail: one changed byte on the DVD gives the same FAIL lines in both VMMs.
boot_test(negative-dvd-corrupt DVD dvd-corrupt.iso EXPECT_STATUS 1)
# The screen: text mode, mode 13h, VBE 1024x768x32, and SeaBIOS's own banner.
boot_test(vga-text SCRATCH_DISK vgatext.img SCREENSHOT SCREEN_TEXT)
boot_test(vga-13h SCRATCH_DISK vga13.img SCREENSHOT)
boot_test(vga-vbe SCRATCH_DISK vbe.img SCREENSHOT)
boot_test(bios-banner DVD banner.iso SCREENSHOT SCREEN_TEXT EXPECT_TEXT "SeaBIOS (version")
boot_test(dma-bench SCRATCH_DISK dmabench.img)
# ACPI power-off from SeaBIOS's tables: the VMM must end with status 0.
boot_test(acpi-firmware DVD acpi.iso POWERS_OFF CPUS 2)

# The host tools' own checks: the comparator and the disk check must reject what differs.
add_test(NAME guest/tools-selftest COMMAND ${GUEST_SRC}/tools/selftest.sh
	$<TARGET_FILE:guest_imgcmp> $<TARGET_FILE:guest_mkmedia> ${GUEST_OUT}/results/tools-selftest)
set_tests_properties(guest/tools-selftest PROPERTIES LABELS "guest;firmware" TIMEOUT 60)
