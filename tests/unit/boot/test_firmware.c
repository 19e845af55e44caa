/* Firmware boot helpers: SeaBIOS's boot order file from the VM's drives and
 * order, and where firmware images are looked for. */
#include "hypervisor/boot/firmware.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void spec_with(struct vm_spec *s, const char *order)
{
	memset(s, 0, sizeof(*s));
	s->boot_order_n = 0;
	for (const char *p = order; *p; p++) {
		if (*p == 'c')
			s->boot_order[s->boot_order_n++] = BOOT_DVD;
		else if (*p == 'd')
			s->boot_order[s->boot_order_n++] = BOOT_DISK;
		else if (*p == 'n')
			s->boot_order[s->boot_order_n++] = BOOT_NETWORK;
	}
}

static void test_bootorder(void **state)
{
	struct vm_spec s;
	char out[512];
	/* DVD at 1:0, disks at 0:0 and 0:1: dvd first, then both disks. */
	spec_with(&s, "cdn");
	s.ide[2].media = DRIVE_DVD;
	s.ide[0].media = DRIVE_DISK;
	s.ide[1].media = DRIVE_DISK;
	assert_int_equal(firmware_bootorder(&s, out, sizeof(out)), 0);
	assert_string_equal(out, "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
				 "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
				 "/pci@i0cf8/ide@1,1/drive@0/disk@1\n"
				 "HALT\n");
	/* Disk first; a DVD left out of the order is not booted (HALT). */
	spec_with(&s, "d");
	s.ide[2].media = DRIVE_DVD;
	s.ide[3].media = DRIVE_DISK;
	assert_int_equal(firmware_bootorder(&s, out, sizeof(out)), 0);
	assert_string_equal(out, "/pci@i0cf8/ide@1,1/drive@1/disk@1\nHALT\n");
	/* No drives at all. */
	spec_with(&s, "cd");
	assert_int_equal(firmware_bootorder(&s, out, sizeof(out)), 0);
	assert_string_equal(out, "HALT\n");
	/* Network first: every adapter's boot ROM by its PCI slot (after the
	 * virtio disks), then the DVD. */
	spec_with(&s, "nc");
	s.ide[2].media = DRIVE_DVD;
	s.nvirtio = 1;
	s.nnics = 2;
	assert_int_equal(firmware_bootorder(&s, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "/pci@i0cf8/ethernet@4\n/pci@i0cf8/ethernet@5\n"
				    "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"));
	assert_int_equal(strncmp(out, "/pci@i0cf8/ethernet@4\n", 22), 0);
	/* Too small a buffer is an error, not a cut line. */
	spec_with(&s, "c");
	s.ide[2].media = DRIVE_DVD;
	assert_int_equal(firmware_bootorder(&s, out, 20), -E2BIG);
}

static void test_find(void **state)
{
	char dir[] = "/tmp/osio-fw-XXXXXX", path[256], out[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bios-256k.bin", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
	/* A configured path must exist; it wins over the search. */
	assert_int_equal(firmware_find(path, "whatever.bin", out, sizeof(out)), 0);
	assert_string_equal(out, path);
	assert_int_equal(firmware_find("/nonexistent/bios.bin", "bios-256k.bin", out, sizeof(out)),
			 -ENOENT);
	/* $OSIO_FIRMWARE_PATH comes before the Debian places. */
	char env[300];
	snprintf(env, sizeof(env), "/nonexistent:%s", dir);
	setenv("OSIO_FIRMWARE_PATH", env, 1);
	assert_int_equal(firmware_find(NULL, "bios-256k.bin", out, sizeof(out)), 0);
	assert_string_equal(out, path);
	assert_int_equal(firmware_find("", "no-such-firmware.bin", out, sizeof(out)), -ENOENT);
	unsetenv("OSIO_FIRMWARE_PATH");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bootorder),
		cmocka_unit_test(test_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
