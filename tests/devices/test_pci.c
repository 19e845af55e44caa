/* PCI core and chipset, driven the way SeaBIOS and Linux drive them:
 * enumeration through 0xCF8/0xCFC, BAR sizing and placement, ROM BARs,
 * INTx through the PIIX3's PIRQ routing, PAM shadowing, PIIX4 PM placement,
 * the reset control register. */
#include "devices/i440fx.h"
#include "devices/pci.h"
#include "tests/devices/harness.h"
#include "tests/devices/pci_testdev.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	harness_init(h, 64 << 20);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	harness_add(h, "acpi-pm", "acpi-pm", NULL);
	harness_add(h, "piix4-pm", "piix4-pm", NULL);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;
	harness_fini(h);
	free(h);
	return 0;
}

static void test_enumerate(void **state)
{
	struct harness *h = *state;
	/* The way SeaBIOS walks bus 0: vendor/device of every function. */
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(0, 0), PCI_VENDOR_ID, 4), 0x12378086);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(0, 0), PCI_SUBSYSTEM_VENDOR_ID, 4),
			 0x11001af4);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(0, 0), PCI_CLASS_DEVICE, 2), 0x0600);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(1, 0), PCI_VENDOR_ID, 4), 0x70008086);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(1, 0), PCI_CLASS_DEVICE, 2), 0x0601);
	/* Function 0 of slot 1 says the slot has more functions. */
	assert_true(pcitest_cfg_read(h, PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1) & 0x80);
	assert_false(pcitest_cfg_read(h, PCI_DEVFN(0, 0), PCI_HEADER_TYPE, 1) & 0x80);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(1, 3), PCI_VENDOR_ID, 4), 0x71138086);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(1, 3), PCI_CLASS_DEVICE, 2), 0x0680);
	/* Nothing there: all-ones at every size. */
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(2, 0), PCI_VENDOR_ID, 4), 0xffffffffu);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(1, 1), PCI_VENDOR_ID, 2), 0xffff);
	assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(31, 7), 0x40, 1), 0xff);
	/* Other buses do not exist; a disabled address reads all-ones. */
	houtl(h, 0xcf8, 0x80010000u);
	assert_int_equal(hinl(h, 0xcfc), 0xffffffffu);
	houtl(h, 0xcf8, 0x00000000u);
	assert_int_equal(hinl(h, 0xcfc), 0xffffffffu);
	/* CONFIG_ADDRESS reads back; only dword accesses reach it. */
	houtl(h, 0xcf8, 0x80000808u);
	assert_int_equal(hinl(h, 0xcf8), 0x80000808u);
	houtw(h, 0xcf8, 0x1234);
	assert_int_equal(hinl(h, 0xcf8), 0x80000808u);
	/* Read-only identification. */
	pcitest_cfg_write(h, 0, PCI_VENDOR_ID, 0xdeadbeef, 4);
	assert_int_equal(pcitest_cfg_read(h, 0, PCI_VENDOR_ID, 4), 0x12378086);
}

static void test_bars(void **state)
{
	struct harness *h = *state;
	/* An I/O BAR, an MMIO BAR, a 64-bit RAM BAR, a ROM, INTA. */
	struct pci_testdev *t = calloc(1, sizeof(*t));
	t->ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pci_testdev_init(t, "testdev", 0x1234, 0x5678, 0x020000, 1, 0x1af4, 1, 1);
	pci_testdev_regs_bar(t, 0, PCI_BAR_IO, 32);
	pci_testdev_regs_bar(t, 1, PCI_BAR_MEM32, 4096);
	assert_int_equal(
	    pci_bar_init(&t->pci, 2,
			 &(struct pci_bar_desc){.size = 0x10000,
						.type = PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
						.ram = t->ram,
						.ram_flags = MEM_DIRTY_LOG}),
	    0);
	assert_int_equal(pci_bar_init(&t->pci, 5,
				      &(struct pci_bar_desc){
					  .size = 3, .type = PCI_BAR_IO, .ops = &pcitest_reg_ops}),
			 -EINVAL);
	uint8_t rom[3000];
	memset(rom, 0x55, sizeof(rom));
	rom[0] = 0x55, rom[1] = 0xaa;
	assert_int_equal(pci_rom_init(&t->pci, rom, sizeof(rom)), 0);
	assert_int_equal(pci_register(h->m.pci, &t->pci, 3, 0), 0);
	assert_int_equal(pci_register(h->m.pci, &t->pci, 3, 0), -EEXIST);
	unsigned dev = PCI_DEVFN(3, 0);

	/* Sizing: all-ones in, size mask and type bits out. */
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_BASE_ADDRESS_0, 4), 0xffffffe1u);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 4, 0xffffffff, 4);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_BASE_ADDRESS_0 + 4, 4), 0xfffff000u);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 12, 0xffffffff, 4);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_BASE_ADDRESS_0 + 8, 4), 0xffff000cu);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_BASE_ADDRESS_0 + 12, 4), 0xffffffffu);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_BASE_ADDRESS_0 + 16, 4),
			 0); /* unimplemented */
	pcitest_cfg_write(h, dev, PCI_ROM_ADDRESS, 0xfffff800, 4);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_ROM_ADDRESS, 4), 0xfffff000u);

	/* Placement, then decoding on. */
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0, 0xc000, 4);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 4, 0xfebf0000, 4);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 8, 0xfd000000, 4);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 12, 0, 4);
	pcitest_cfg_write(h, dev, PCI_ROM_ADDRESS, 0xfeb00001, 4);
	houtb(h, 0xc004, 0x5a);
	assert_int_equal(t->regs[4], 0); /* not decoding yet */
	assert_null(gpa_to_hva(&h->m.mem, 0xfd000000, 1));
	pcitest_cfg_write(h, dev, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	houtb(h, 0xc004, 0x5a);
	assert_int_equal(t->regs[4], 0x5a);
	hmmio_write(h, 0xfebf0010, 0x11223344, 4);
	assert_int_equal(t->regs[0x10], 0x44);
	assert_ptr_equal(gpa_to_hva(&h->m.mem, 0xfd000000, 0x10000), t->ram);
	const uint8_t *r = gpa_to_hva_ro(&h->m.mem, 0xfeb00000, 4096);
	assert_non_null(r);
	assert_int_equal(r[0], 0x55);
	assert_int_equal(r[1], 0xaa);
	assert_int_equal(r[3500], 0xff);		   /* past the image: erased ROM */
	assert_null(gpa_to_hva(&h->m.mem, 0xfeb00000, 1)); /* ROM is read-only */
	unsigned calls = t->mapped_calls;
	assert_true(calls >= 4);

	/* Moving a BAR: the old place goes quiet. */
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0, 0xd000, 4);
	houtb(h, 0xc005, 0x77);
	assert_int_equal(t->regs[5], 0);
	houtb(h, 0xd005, 0x77);
	assert_int_equal(t->regs[5], 0x77);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 8, 0x00000000, 4);
	pcitest_cfg_write(h, dev, PCI_BASE_ADDRESS_0 + 12, 0x00000001, 4); /* 64-bit: above 4 GiB */
	assert_null(gpa_to_hva(&h->m.mem, 0xfd000000, 1));
	assert_ptr_equal(gpa_to_hva(&h->m.mem, 0x100000000ull, 1), t->ram);

	/* Memory decoding off: MMIO, RAM and ROM BARs all go. */
	pcitest_cfg_write(h, dev, PCI_COMMAND, PCI_COMMAND_IO, 2);
	assert_null(gpa_to_hva(&h->m.mem, 0x100000000ull, 1));
	assert_null(gpa_to_hva_ro(&h->m.mem, 0xfeb00000, 1));
	assert_int_equal(hmmio_read(h, 0xfebf0010, 4), 0xffffffffu);
	houtb(h, 0xd006, 0x12);
	assert_int_equal(t->regs[6], 0x12);

	/* Reset: no decoding, BARs unassigned. */
	pci_device_reset(&t->pci);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_COMMAND, 2), 0);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_BASE_ADDRESS_0, 4), 0x1);
	houtb(h, 0xd007, 0x34);
	assert_int_equal(t->regs[7], 0);

	pci_unregister(&t->pci);
	assert_int_equal(pcitest_cfg_read(h, dev, PCI_VENDOR_ID, 4), 0xffffffffu);
	munmap(t->ram, 0x10000);
	free(t);
}

static void test_intx_routing(void **state)
{
	struct harness *h = *state;
	struct pci_testdev *t = calloc(1, sizeof(*t));
	pci_testdev_init(t, "testdev", 0x1234, 0x5678, 0x020000, 1, 0, 0, 1 /* INTA */);
	assert_int_equal(pci_register(h->m.pci, &t->pci, 3, 0), 0);
	assert_int_equal(pci_slot_pirq(PCI_DEVFN(3, 0), 0), 2); /* slot 3 INTA: PIRQC */
	/* Unrouted (power-on): nothing arrives. */
	pci_set_irq(&t->pci, true);
	for (int i = 0; i < HARNESS_IRQS; i++)
		assert_false(h->irq_level[i]);
	assert_true(pcitest_cfg_read(h, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* SeaBIOS routes PIRQC to IRQ 11: the held line shows up there. */
	pcitest_cfg_write(h, PCI_DEVFN(1, 0), 0x62, 11, 1);
	assert_true(h->irq_level[11]);
	/* Rerouted while asserted: it moves. */
	pcitest_cfg_write(h, PCI_DEVFN(1, 0), 0x62, 10, 1);
	assert_false(h->irq_level[11]);
	assert_true(h->irq_level[10]);
	/* A second device on the same link keeps it up when the first drops. */
	struct pci_device d2;
	pci_device_init(&d2, "dev2", 0x1234, 0x9999, 0x020000, 1, 0, 0, 4 /* INTD */);
	assert_int_equal(pci_register(h->m.pci, &d2, 4, 0), 0); /* slot 4 INTD: (4-1+3)%4 = C */
	pci_set_irq(&d2, true);
	pci_set_irq(&t->pci, false);
	assert_true(h->irq_level[10]);
	pci_set_irq(&d2, false);
	assert_false(h->irq_level[10]);
	/* Interrupt disable in the command register masks the pin. */
	pci_set_irq(&t->pci, true);
	assert_true(h->irq_level[10]);
	pcitest_cfg_write(h, PCI_DEVFN(3, 0), PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_false(h->irq_level[10]);
	assert_true(pcitest_cfg_read(h, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pcitest_cfg_write(h, PCI_DEVFN(3, 0), PCI_COMMAND, 0, 2);
	assert_true(h->irq_level[10]);
	/* Routing disabled again (bit 7), or to an IRQ a PIRQ cannot reach. */
	pcitest_cfg_write(h, PCI_DEVFN(1, 0), 0x62, 0x80 | 10, 1);
	assert_false(h->irq_level[10]);
	pcitest_cfg_write(h, PCI_DEVFN(1, 0), 0x62, 2, 1);
	assert_false(h->irq_level[2]);
	pci_set_irq(&t->pci, false);
	pci_unregister(&d2);
	pci_unregister(&t->pci);
	free(t);
}

static void test_pam(void **state)
{
	struct harness *h = *state;
	void *hb = machine_device(&h->m, "i440fx");
	/* Power-on, no BIOS: nothing at 0xF0000. */
	assert_null(gpa_to_hva_ro(&h->m.mem, 0xf0000, 1));
	uint8_t *bios =
	    mmap(NULL, 0x40000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(bios, 0xb1, 0x40000);
	memcpy(bios + 0x40000 - 16, "\xea\x5b\xe0\x00\xf0", 5); /* the reset jump */
	assert_int_equal(i440fx_set_bios(hb, bios, 0x40000), 0);
	/* The ISA BIOS alias: the ROM's last 128 KiB at 0xE0000. */
	const uint8_t *p = gpa_to_hva_ro(&h->m.mem, 0xffff0, 5);
	assert_non_null(p);
	assert_memory_equal(p, "\xea\x5b\xe0\x00\xf0", 5);
	assert_null(gpa_to_hva(&h->m.mem, 0xffff0, 1));	   /* ROM */
	assert_null(gpa_to_hva_ro(&h->m.mem, 0xc0000, 1)); /* no ROM behind C/D */

	/* SeaBIOS: PAM 0x33/0x30 (read-write RAM), copy, then read-only. */
	uint8_t *ram = h->m.ram_low;
	pcitest_cfg_write(h, 0, 0x59, 0x30, 1);
	for (unsigned r = 0x5a; r <= 0x5f; r++)
		pcitest_cfg_write(h, 0, r, 0x33, 1);
	assert_ptr_equal(gpa_to_hva(&h->m.mem, 0xf0000, 0x10000), ram + 0xf0000);
	assert_ptr_equal(gpa_to_hva(&h->m.mem, 0xc0000, 0x4000), ram + 0xc0000);
	assert_int_equal(guest_write(&h->m.mem, 0xffff0, "\xea\x5b\xe0\x00\xf0", 5), 0);
	pcitest_cfg_write(h, 0, 0x59, 0x10, 1);
	assert_null(gpa_to_hva(&h->m.mem, 0xffff0, 1));
	assert_ptr_equal(gpa_to_hva_ro(&h->m.mem, 0xffff0, 1), ram + 0xffff0);

	/* Write-only: reads the ROM, writes land in RAM. */
	pcitest_cfg_write(h, 0, 0x5e, 0x22, 1); /* 0xE0000-0xE7FFF write-only */
	assert_int_equal(*(const uint8_t *)gpa_to_hva_ro(&h->m.mem, 0xe0000, 1), 0xb1);
	ram[0xe0010] = 0;
	hmmio_write(h, 0xe0010, 0xabcd, 2);
	assert_int_equal(ram[0xe0010], 0xcd);
	assert_int_equal(ram[0xe0011], 0xab);

	/* Reset: the ROM is back at the top of the first MiB. */
	machine_reset_devices(&h->m);
	assert_int_equal(pcitest_cfg_read(h, 0, 0x59, 1), 0);
	assert_null(gpa_to_hva(&h->m.mem, 0xf0000, 1));
	assert_int_equal(*(const uint8_t *)gpa_to_hva_ro(&h->m.mem, 0xf0000, 1), 0xb1);

	/* For kernels booted without firmware: shadow RAM, read-write. */
	i440fx_shadow_ram(hb);
	assert_int_equal(pcitest_cfg_read(h, 0, 0x5f, 1), 0x33);
	assert_ptr_equal(gpa_to_hva(&h->m.mem, 0xe0000, 0x4000), ram + 0xe0000);
	assert_ptr_equal(gpa_to_hva(&h->m.mem, 0xf0000, 0x10000), ram + 0xf0000);
	/* Copies run across the segments. */
	static uint8_t tables[0x20000];
	memset(tables, 0x7e, sizeof(tables));
	assert_int_equal(guest_write(&h->m.mem, 0xe0000, tables, sizeof(tables)), 0);
	assert_int_equal(ram[0xfffff], 0x7e);
	munmap(bios, 0x40000);
}

static void test_pm_placement_and_reset_control(void **state)
{
	struct harness *h = *state;
	unsigned pm = PCI_DEVFN(1, 3);
	/* Not decoding until the firmware places it. */
	assert_int_equal(hinw(h, 0x604), 0xffff);
	/* SMM reported as set up, so SeaBIOS leaves it alone. */
	assert_true(pcitest_cfg_read(h, pm, 0x58, 4) & (1u << 25));
	pcitest_cfg_write(h, pm, 0x40, 0x0601, 4);
	pcitest_cfg_write(h, pm, 0x80, 0x01, 1);
	assert_int_equal(pcitest_cfg_read(h, pm, 0x40, 4), 0x0601);
	assert_true(hinw(h, 0x604) & 1); /* SCI_EN */
	pcitest_cfg_write(h, pm, 0x40, 0xb001, 4);
	assert_int_equal(hinw(h, 0x604), 0xffff);
	assert_true(hinw(h, 0xb004) & 1);
	pcitest_cfg_write(h, pm, 0x80, 0x00, 1);
	assert_int_equal(hinw(h, 0xb004), 0xffff);

	/* 0xCF9: the PIIX reset control register; RST_CPU resets. */
	unsigned before = h->requests;
	houtb(h, 0xcf9, 0x02);
	assert_int_equal(h->requests, before);
	houtb(h, 0xcf9, 0x06);
	assert_int_equal(h->requests, before + 1);
	assert_int_equal(h->last_request, MACHINE_RESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_enumerate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bars, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_intx_routing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pam, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pm_placement_and_reset_control, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
