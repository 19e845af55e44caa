/* Saved state of the PCI pieces: a device's configuration space with its BAR,
 * ROM and INTx consequences (pci_save/pci_load), the host bridge's latch and
 * PAM shadowing (i440fx), PIRQ routing (piix3), and MSI-X tables, pending
 * bits and routes (msix_save/msix_load); and damaged states refused. */
#include "devices/i440fx.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "tests/devices/chipset_state.h"
#include "tests/devices/pci_testdev.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOT	 3
#define DEVFN	 PCI_DEVFN(SLOT, 0)
#define IO_BASE	 0xc040
#define MEM_BASE 0xfeb00000u
#define ROM_BASE 0xfeb40000u
#define MSIX_BAR 0xfebf0000u
#define NVEC	 5

/* The test device: I/O BAR 0, memory BAR 1, a ROM, INTA, and MSI-X in BAR 2. */
struct machine_t {
	struct harness h;
	struct pci_testdev dev;
	struct msi_rec rec;
	uint8_t *bios;
};

static const uint8_t rom_image[] = {0x55, 0xaa, 0x02, 0xcb, 'o', 's', 'i', 'o'};

/* The machine both sides of a save build: i440fx (with a BIOS), piix3,
 * and the test device at SLOT. */
static void build(struct machine_t *t)
{
	memset(t, 0, sizeof(*t));
	harness_init(&t->h, 64 << 20);
	harness_add(&t->h, "i440fx", "i440fx", NULL);
	harness_add(&t->h, "piix3", "piix3", NULL);
	t->bios = mmap(NULL, 0x40000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(t->bios != MAP_FAILED);
	memset(t->bios, 0xb1, 0x40000);
	assert_int_equal(i440fx_set_bios(machine_device(&t->h.m, "i440fx"), t->bios, 0x40000), 0);
	msi_rec_init(&t->rec, true, false);
	msi_set_backend(&t->h.m, &msi_rec_ops, &t->rec);

	struct pci_testdev *d = &t->dev;
	pci_testdev_init(d, "testdev", 0x1234, 0x5678, 0x020000, 1, 0, 0, 1);
	pci_testdev_regs_bar(d, 0, PCI_BAR_IO, 32);
	pci_testdev_regs_bar(d, 1, PCI_BAR_MEM32, 0x1000);
	assert_int_equal(pci_rom_init(&d->pci, rom_image, sizeof(rom_image)), 0);
	pci_testdev_msix(d, &t->h.m, NVEC, 2);
	assert_int_equal(pci_register(t->h.m.pci, &d->pci, SLOT, 0), 0);
}

static void unbuild(struct machine_t *t)
{
	pci_testdev_destroy(&t->dev);
	msi_set_backend(&t->h.m, NULL, NULL);
	harness_fini(&t->h);
	munmap(t->bios, 0x40000);
}

/* The machine's devices and then the test device's own section. */
static void save_all(struct machine_t *t, struct saved *s)
{
	struct vmstate_out o;
	vmstate_out_init(&o);
	machine_save_devices(&t->h.m, &o);
	vmstate_begin(&o, "testdev", 1);
	pci_save(&t->dev.pci, &o);
	msix_save(&t->dev.x, &o);
	vmstate_end(&o);
	assert_int_equal(vmstate_out_error(&o), 0);
	s->buf = o.buf;
	s->len = o.len;
}

/* As a device model's load would: the chipset first, then the device. */
static int load_all(struct machine_t *t, const struct saved *s, char *err, size_t errlen)
{
	struct vmstate_in *in;
	int r = vmstate_in_parse(s->buf, s->len, &in, err, errlen);
	if (r < 0)
		return r;
	r = machine_load_devices(&t->h.m, in, err, errlen);
	if (r == 0) {
		struct vmstate_section *sec = vmstate_section(in, "testdev");
		assert_non_null(sec);
		r = pci_load(&t->dev.pci, sec);
		if (r == 0)
			r = msix_load(&t->dev.x, sec);
		snprintf(err, errlen, "%s", vmstate_error(in));
	}
	vmstate_in_free(in);
	return r;
}

static void load_fails(struct machine_t *t, const struct saved *s, const char *want)
{
	char err[512] = "";
	int r = load_all(t, s, err, sizeof(err));
	if (r == 0 || !strstr(err, want))
		fail_msg("load gave %d, \"%s\"; expected \"%s\"", r, err, want);
}

/* Drives the machine to a state worth saving: BARs, ROM and bus master on,
 * PIRQC routed to IRQ 11 with INTA held, PAM shadowing, MSI-X programmed
 * with one vector pending, and CONFIG_ADDRESS left latched. */
static void drive(struct machine_t *t)
{
	struct harness *h = &t->h;
	pcitest_cfg_write(h, DEVFN, PCI_BASE_ADDRESS_0, IO_BASE, 4);
	pcitest_cfg_write(h, DEVFN, PCI_BASE_ADDRESS_0 + 4, MEM_BASE, 4);
	pcitest_cfg_write(h, DEVFN, PCI_BASE_ADDRESS_0 + 8, MSIX_BAR, 4);
	pcitest_cfg_write(h, DEVFN, PCI_ROM_ADDRESS, ROM_BASE | PCI_ROM_ADDRESS_ENABLE, 4);
	pcitest_cfg_write(h, DEVFN, PCI_COMMAND,
			  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	pcitest_cfg_write(h, DEVFN, PCI_INTERRUPT_LINE, 11, 1);
	pcitest_cfg_write(h, DEVFN, PCI_LATENCY_TIMER, 0x40, 1);
	pcitest_cfg_write(h, PCI_DEVFN(1, 0), 0x62, 11, 1); /* PIRQC (slot 3 INTA) -> IRQ 11 */
	pcitest_cfg_write(h, PCI_DEVFN(1, 0), 0x4c, 0x5a, 1);
	/* SeaBIOS's shadowing: F segment read-only RAM, C0000 read-write. */
	pcitest_cfg_write(h, 0, 0x59, 0x10, 1);
	pcitest_cfg_write(h, 0, 0x5a, 0x33, 1);
	pcitest_cfg_write(h, 0, 0x72, 0x0a, 1);
	houtw(h, IO_BASE + 2, 0xbeef);
	pci_set_irq(&t->dev.pci, true);
	assert_true(h->irq_level[11]);
	/* MSI-X: vector 0 live, vector 3 masked with a message pending. */
	hmmio_write(h, MSIX_BAR, 0xfee00000u, 4);
	hmmio_write(h, MSIX_BAR + 8, 0x31, 4);
	hmmio_write(h, MSIX_BAR + 12, 0, 4);
	hmmio_write(h, MSIX_BAR + 48, 0xfee01000u, 4);
	hmmio_write(h, MSIX_BAR + 56, 0x44, 4);
	pcitest_cfg_write(h, DEVFN, t->dev.x.cap + 2, MSIX_CTRL_ENABLE, 2);
	assert_int_equal(msix_notify(&t->dev.x, 3), 0);
	assert_true(msix_pending(&t->dev.x, 3));
	houtl(h, 0xcf8, 0x80000000u | DEVFN << 8 | 0x10);
}

static void test_round_trip(void **state)
{
	struct machine_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	build(a);
	drive(a);
	uint32_t cfg[3][64];
	for (unsigned i = 0; i < 64; i++) {
		cfg[0][i] = pcitest_cfg_read(&a->h, 0, 4 * i, 4);
		cfg[1][i] = pcitest_cfg_read(&a->h, PCI_DEVFN(1, 0), 4 * i, 4);
		cfg[2][i] = pcitest_cfg_read(&a->h, DEVFN, 4 * i, 4);
	}
	houtl(&a->h, 0xcf8, 0x80000000u | DEVFN << 8 | 0x10);
	struct saved s;
	save_all(a, &s);
	unbuild(a);

	build(b);
	/* Before the load nothing decodes. */
	assert_int_equal(hinw(&b->h, IO_BASE + 2), 0xffff);
	assert_null(gpa_to_hva_ro(&b->h.m.mem, ROM_BASE, 1));
	char err[512];
	assert_int_equal(load_all(b, &s, err, sizeof(err)), 0);
	struct harness *h = &b->h;
	/* The latch, then every configuration register reads as before. */
	assert_int_equal(hinl(h, 0xcf8), 0x80000000u | DEVFN << 8 | 0x10);
	for (unsigned i = 0; i < 64; i++) {
		assert_int_equal(pcitest_cfg_read(h, 0, 4 * i, 4), cfg[0][i]);
		assert_int_equal(pcitest_cfg_read(h, PCI_DEVFN(1, 0), 4 * i, 4), cfg[1][i]);
		assert_int_equal(pcitest_cfg_read(h, DEVFN, 4 * i, 4), cfg[2][i]);
	}
	/* The BARs and the ROM decode where they did. */
	b->dev.regs[2] = 0xef;
	b->dev.regs[3] = 0xbe;
	assert_int_equal(hinw(h, IO_BASE + 2), 0xbeef);
	hmmio_write(h, MEM_BASE + 0x10, 0x12345678, 4);
	assert_int_equal(b->dev.regs[0x10], 0x78);
	const uint8_t *rom = gpa_to_hva_ro(&h->m.mem, ROM_BASE, sizeof(rom_image));
	assert_non_null(rom);
	assert_memory_equal(rom, rom_image, sizeof(rom_image));
	assert_true(pci_bus_master(&b->dev.pci));
	/* INTA still held on IRQ 11, counted once: one drop releases it. */
	assert_true(h->irq_level[11]);
	pci_set_irq(&b->dev.pci, false);
	assert_false(h->irq_level[11]);
	/* PAM: F segment read-only RAM, C0000 read-write RAM. */
	uint8_t *ram = h->m.ram_low;
	assert_null(gpa_to_hva(&h->m.mem, 0xf0000, 1));
	assert_ptr_equal(gpa_to_hva_ro(&h->m.mem, 0xf0000, 1), ram + 0xf0000);
	assert_ptr_equal(gpa_to_hva(&h->m.mem, 0xc0000, 0x4000), ram + 0xc0000);
	assert_null(gpa_to_hva(&h->m.mem, 0xe0000, 1));
	assert_int_equal(*(const uint8_t *)gpa_to_hva_ro(&h->m.mem, 0xe0000, 1), 0xb1);

	/* MSI-X: the table reads back, vector 3 is still pending, vector 0
	 * has its route again and fires through it. */
	assert_int_equal(hmmio_read(h, MSIX_BAR + 8, 4), 0x31);
	assert_int_equal(hmmio_read(h, MSIX_BAR + 48 + 12, 4), 1);
	assert_int_equal(hmmio_read(h, MSIX_BAR + 0x800, 8), 1u << 3);
	assert_true(msix_enabled(&b->dev.x));
	bool routed = false;
	for (unsigned i = 0; i < b->rec.nroutes; i++)
		routed |= b->rec.msgs[i].data == 0x31 && b->rec.msgs[i].addr == 0xfee00000u;
	assert_true(routed);
	assert_int_equal(msix_notify(&b->dev.x, 0), 0);
	uint64_t n = 0;
	assert_true(b->rec.irqfd_fd[0] >= 0);
	assert_int_equal(read(b->rec.irqfd_fd[0], &n, 8), 8);
	/* Unmasking vector 3 sends what was pending before the save. */
	hmmio_write(h, MSIX_BAR + 48 + 12, 0, 4);
	assert_false(msix_pending(&b->dev.x, 3));
	routed = false;
	for (unsigned i = 0; i < b->rec.nroutes; i++)
		routed |= b->rec.msgs[i].data == 0x44;
	assert_true(routed);
	unbuild(b);
	state_free(&s);
	free(a);
	free(b);
}

/* Saves a driven machine, then loads damaged copies into fresh ones. */
static void test_refused(void **state)
{
	struct machine_t *t = calloc(1, sizeof(*t));
	build(t);
	drive(t);
	struct saved s, bad;
	save_all(t, &s);
	unbuild(t);

	static const struct {
		const char *section, *field;
		unsigned byte; /* of the field's data */
		uint8_t value;
		const char *why;
	} cases[] = {
	    /* Read-only bits: a vendor ID, a PAM reserved bit, SMRAM's base
	     * segment, a BAR's type bits, a BAR's size bits. */
	    {"testdev", "pci.config", 0x00, 0x35, "byte 0x00 is 0x35"},
	    {"i440fx", "pci.config", 0x59, 0x11, "byte 0x59"},
	    {"i440fx", "pci.config", 0x72, 0x0b, "byte 0x72"},
	    {"testdev", "pci.config", 0x10, 0x40, "byte 0x10"},
	    {"testdev", "pci.config", 0x14, 0x00 | 0x08, "byte 0x14"},
	    /* MSI-X: reserved bits of an entry, a pending bit past the table. */
	    {"testdev", "msix.table", 12, 0x03, "vector 0 has reserved bits"},
	    {"testdev", "msix.table", 16, 0x01, "vector 1 has reserved bits"},
	    {"testdev", "msix.pending", 0, 0x20, "bit 5 is past the 5 vectors"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The field as saved, with one byte changed. */
		struct vmstate_in *in;
		char err[256];
		assert_int_equal(vmstate_in_parse(s.buf, s.len, &in, err, sizeof(err)), 0);
		size_t len;
		const uint8_t *p = vmstate_get_blob(vmstate_section(in, cases[i].section),
						    cases[i].field, 4096, &len);
		assert_non_null(p);
		uint8_t *copy = malloc(len);
		memcpy(copy, p, len);
		vmstate_in_free(in);
		copy[cases[i].byte] = cases[i].value;
		state_edit(&s, cases[i].section, cases[i].field, copy, len, &bad);
		free(copy);
		build(t);
		load_fails(t, &bad, cases[i].why);
		unbuild(t);
		state_free(&bad);
	}
	/* Missing fields, wrong sizes, a CONFIG_ADDRESS with reserved bits. */
	static const char *const missing[][2] = {
	    {"testdev", "pci.config"},	 {"testdev", "msix.table"},
	    {"testdev", "msix.pending"}, {"i440fx", "pcibus.config_address"},
	    {"i440fx", "pcibus.rcr"},	 {"piix3", "pci.config"}};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		char want[128];
		snprintf(want, sizeof(want), "field '%s' is missing", missing[i][1]);
		state_edit(&s, missing[i][0], missing[i][1], NULL, 0, &bad);
		build(t);
		load_fails(t, &bad, want);
		unbuild(t);
		state_free(&bad);
	}
	uint8_t small[100] = {0};
	state_edit(&s, "testdev", "msix.table", small, sizeof(small), &bad);
	build(t);
	load_fails(t, &bad, "msix.table");
	unbuild(t);
	state_free(&bad);
	state_edit_u64(&s, "i440fx", "pcibus.config_address", 0x80000003u, &bad);
	build(t);
	load_fails(t, &bad, "reserved bits");
	unbuild(t);
	state_free(&bad);
	state_free(&s);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
