/* The PIIX3 IDE function as a PCI device and as a device model: its
 * configuration registers (BAR4, IDETIM), legacy port decoding as PCICMD
 * and IDETIM say, reset, and the drive arguments with their errors. */
#include "devices/ide/ide.h"
#include "tests/devices/test_ide.h"

#include <errno.h>

struct fx {
	struct harness *h;
	char disk[64], disk2[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	make_image(f->disk, sizeof(f->disk), 2048 * 512ull, 0);
	make_image(f->disk2, sizeof(f->disk2), 512 * 1024, 0x40);
	char args[256];
	snprintf(args, sizeof(args), "drive0=disk:%s,drive2=disk:%s", f->disk, f->disk2);
	f->h = ide_machine(args);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->h)
		ide_machine_free(f->h);
	unlink(f->disk);
	unlink(f->disk2);
	free(f);
	return 0;
}

/* --- the PCI function ------------------------------------------------------- */

static void test_pci_function(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_VENDOR_ID, 4), 0x70108086);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_CLASS_PROG, 1), 0x80);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_CLASS_DEVICE, 2), 0x0101);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_STATUS, 2), 0x0280);
	/* Only BAR4 exists: 16 bytes of I/O. */
	cfg_write(h, IDE_DEVFN, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_BASE_ADDRESS_0, 4), 0);
	cfg_write(h, IDE_DEVFN, PCI_BASE_ADDRESS_0 + 16, 0xffffffff, 4);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_BASE_ADDRESS_0 + 16, 4), 0xfffffff1);
	cfg_write(h, IDE_DEVFN, PCI_BASE_ADDRESS_0 + 16, BM_BASE, 4);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_BASE_ADDRESS_0 + 16, 4), BM_BASE | 1);
	/* Memory space cannot be turned on. */
	cfg_write(h, IDE_DEVFN, PCI_COMMAND, 0x07, 2);
	assert_int_equal(cfg_read(h, IDE_DEVFN, PCI_COMMAND, 2), 0x05);
	/* IDETIM: bits 11:10 are reserved. */
	cfg_write(h, IDE_DEVFN, 0x40, 0xffff, 2);
	assert_int_equal(cfg_read(h, IDE_DEVFN, 0x40, 2), 0xf3ff);
	cfg_write(h, IDE_DEVFN, 0x44, 0x5a, 1);
	assert_int_equal(cfg_read(h, IDE_DEVFN, 0x44, 1), 0x5a);
	/* Function 0 of slot 1 reports several functions. */
	assert_true(cfg_read(h, PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1) & 0x80);
}

/* The legacy ports answer only with I/O space on and IDETIM decoding. */
static void test_decode(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	assert_string_equal(bus_owner(h->m.pio, PRI + 7), "piix-ide");
	assert_string_equal(bus_owner(h->m.pio, SEC_CTL), "piix-ide");
	cfg_write(h, IDE_DEVFN, 0x42, 0x0000, 2);
	assert_null(bus_owner(h->m.pio, SEC));
	assert_non_null(bus_owner(h->m.pio, PRI));
	assert_int_equal(hinb(h, SEC + R_STATUS), 0xff);
	cfg_write(h, IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	assert_null(bus_owner(h->m.pio, PRI));
	assert_null(bus_owner(h->m.pio, BM_BASE));
	bios_pci_setup(h);
	assert_non_null(bus_owner(h->m.pio, SEC + 2));
	assert_non_null(bus_owner(h->m.pio, BM_BASE + 15));
	assert_null(bus_owner(h->m.pio, PRI_CTL + 1)); /* 0x3f7 is the floppy's */
	/* A machine reset turns decoding off, as at power-on. */
	machine_reset_devices(&h->m);
	assert_null(bus_owner(h->m.pio, PRI));
	assert_int_equal(cfg_read(h, IDE_DEVFN, 0x40, 2), 0);
	/* What a BIOS does, for kernels booted without one. */
	ide_firmware_setup(machine_device(&h->m, "ide"));
	assert_non_null(bus_owner(h->m.pio, PRI));
	assert_non_null(bus_owner(h->m.pio, SEC));
}

/* --- devargs ------------------------------------------------------------------- */

static int try_create(const char *args)
{
	struct harness h;
	harness_init(&h, 2 << 20);
	harness_add(&h, "i440fx", "i440fx", NULL);
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, args), 0);
	int r = machine_add_device(&h.m, "piix-ide", "ide", &a);
	harness_fini(&h);
	return r;
}

static void test_devargs(void **state)
{
	struct fx *f = *state;
	ide_machine_free(f->h);
	f->h = NULL;
	char args[256];
	assert_int_equal(try_create("drive0=disk:/nonexistent/x.img"), -ENOENT);
	assert_int_equal(try_create("drive1=dvd:/nonexistent/x.iso"), -ENOENT);
	assert_int_equal(try_create("drive0=cdrom:/tmp/x"), -EINVAL);
	assert_int_equal(try_create("drive0=disk:"), -EINVAL);
	assert_int_equal(try_create("drive4=dvd:"), -EINVAL);
	/* An empty file is no disk. */
	char empty[64];
	make_image(empty, sizeof(empty), 100, 0);
	snprintf(args, sizeof(args), "drive0=disk:%s", empty);
	assert_int_equal(try_create(args), -EINVAL);
	snprintf(args, sizeof(args), "drive0=dvd:%s", f->disk2);
	assert_int_equal(try_create(args), 0); /* any file of whole sectors */
	unlink(empty);
	/* One image in two drives read-write: the lock says no. */
	snprintf(args, sizeof(args), "drive0=disk:%s,drive3=disk:%s", f->disk, f->disk);
	assert_int_equal(try_create(args), -EBUSY);
	/* Read-only twice is fine; empty DVD drives need no file. */
	snprintf(args, sizeof(args),
		 "drive0=disk-ro:%s,drive1=disk-ro:%s,drive2=dvd:,drive3=dvd:", f->disk, f->disk);
	assert_int_equal(try_create(args), 0);
	/* Without a PCI bus there is nothing to sit on. */
	struct harness h;
	harness_init(&h, 2 << 20);
	struct devargs a = {0};
	assert_int_equal(machine_add_device(&h.m, "piix-ide", "ide", &a), -ENODEV);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pci_function, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_devargs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
