/* e1000 (82540EM): PCI identity, reset, EEPROM (EERD and bit-banged
 * Microwire, checksum), MAC, PHY through MDIC, interrupts (ICR/ICS/IMS/IMC,
 * INTx, ITR throttling), link changes, statistics, the I/O window and the
 * option ROM, driven as Linux's e1000 probe and open do. */
#include "tests/devices/e1000_driver.h"

#include <errno.h>
#include <fcntl.h>

static void test_pci_identity(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	assert_int_equal(edrv_cfg_read(&d, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(edrv_cfg_read(&d, PCI_DEVICE_ID, 2), 0x100e);
	assert_int_equal(edrv_cfg_read(&d, PCI_REVISION_ID, 1), 3);
	assert_int_equal(edrv_cfg_read(&d, PCI_CLASS_PROG, 4) >> 8, 0x020000);
	assert_int_equal(edrv_cfg_read(&d, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(edrv_cfg_read(&d, PCI_SUBSYSTEM_ID, 2), 0x1100);
	assert_int_equal(edrv_cfg_read(&d, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR0: 128 KiB of memory; BAR1: I/O. */
	edrv_cfg_write(&d, PCI_BASE_ADDRESS_0, 0xffffffffu, 4);
	assert_int_equal(edrv_cfg_read(&d, PCI_BASE_ADDRESS_0, 4), 0xfffe0000u);
	edrv_cfg_write(&d, PCI_BASE_ADDRESS_0, (uint32_t)EDRV_MMIO, 4);
	edrv_cfg_write(&d, PCI_BASE_ADDRESS_0 + 4, 0xffffffffu, 4);
	assert_int_equal(edrv_cfg_read(&d, PCI_BASE_ADDRESS_0 + 4, 4) & 1, 1);
	edrv_cfg_write(&d, PCI_BASE_ADDRESS_0 + 4, EDRV_IO, 4);
	/* Link up at 1000 Mb/s full duplex, as the driver's probe sees it. */
	uint32_t status = er32(&d, R_STATUS);
	assert_true(status & STATUS_LU);
	assert_int_equal(status & 1, 1);
	assert_int_equal(status >> 6 & 3, 2);
	edrv_close(&d);
}

static void test_eeprom(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	edrv_reset(&d);
	/* A 64-word Microwire part (EECD.SIZE clear). */
	assert_false(er32(&d, R_EECD) & EECD_SIZE);
	uint16_t sum = 0;
	for (unsigned i = 0; i < 64; i++) {
		uint16_t w = edrv_eerd(&d, i);
		assert_int_equal(edrv_mw_read(&d, i), w);
		sum = (uint16_t)(sum + w);
	}
	assert_int_equal(sum, 0xbaba);
	/* The MAC in words 0-2 and in RAL0/RAH0 (address valid). */
	uint8_t mac[6] = {0x52, 0x4f, 0x53, 0, 0, 1};
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(edrv_eerd(&d, i), mac[2 * i] | mac[2 * i + 1] << 8);
	assert_int_equal(er32(&d, R_RAL0), 0x00534f52u);
	assert_int_equal(er32(&d, R_RAH0), 0x80000100u);
	/* Device and vendor ids where the manual puts them. */
	assert_int_equal(edrv_eerd(&d, 0x0d), 0x100e);
	assert_int_equal(edrv_eerd(&d, 0x0e), 0x8086);
	/* EERD of a word past the end: done, no data. */
	ew32(&d, R_EERD, 0x80u << 8 | 1);
	assert_int_equal(er32(&d, R_EERD), 0x80u << 8 | 0x10);
	/* A write command (EWEN, then WRITE) changes nothing. */
	uint32_t eecd = EECD_REQ;
	ew32(&d, R_EECD, eecd);
	eecd |= EECD_CS;
	ew32(&d, R_EECD, eecd);
	edrv_ee_out(&d, &eecd, 0x5, 3); /* WRITE */
	edrv_ee_out(&d, &eecd, 1, 6);
	edrv_ee_out(&d, &eecd, 0xdead, 16);
	ew32(&d, R_EECD, 0);
	assert_int_equal(edrv_mw_read(&d, 1), mac[2] | mac[3] << 8);
	edrv_close(&d);
}

static void test_phy(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	/* M88E1011 ids (Linux: M88E1011_I_PHY_ID 0x01410c20). */
	assert_int_equal(edrv_phy_read(&d, 2), 0x0141);
	assert_int_equal(edrv_phy_read(&d, 3) & 0xfff0, 0x0c20);
	int bmsr = edrv_phy_read(&d, 1);
	assert_true(bmsr & 0x0004); /* link */
	assert_true(bmsr & 0x0020); /* autonegotiation complete */
	assert_int_equal(edrv_phy_read(&d, 0x11) & 0xac00, 0xac00);
	assert_true(edrv_phy_read(&d, 5) != 0);
	/* Advertisement registers keep what the driver writes. */
	edrv_phy_write(&d, 4, 0x0de1);
	edrv_phy_write(&d, 9, 0x0200);
	assert_int_equal(edrv_phy_read(&d, 9), 0x0200);
	/* Restart autonegotiation: self-clearing, link stays. */
	edrv_phy_write(&d, 0, 0x1340);
	assert_int_equal(edrv_phy_read(&d, 0) & 0x0200, 0);
	/* Only PHY address 1 answers. */
	assert_int_equal(edrv_mdic(&d, 2, 2, 0, 0), -1);
	/* Power-down drops the link (LSC), power-up brings it back. */
	ew32(&d, R_IMS, ICR_LSC);
	edrv_phy_write(&d, 0, 0x1140 | 0x0800);
	assert_false(er32(&d, R_STATUS) & STATUS_LU);
	assert_false(edrv_phy_read(&d, 1) & 0x0004);
	assert_true(d.h->irq_level[EDRV_IRQ]);
	assert_int_equal(er32(&d, R_ICR), ICR_LSC);
	assert_false(d.h->irq_level[EDRV_IRQ]);
	edrv_phy_write(&d, 0, 0x1140);
	assert_true(er32(&d, R_STATUS) & STATUS_LU);
	assert_int_equal(er32(&d, R_ICR), ICR_LSC);
	/* A PHY reset through BMCR restores the defaults. */
	edrv_phy_write(&d, 9, 0);
	edrv_phy_write(&d, 0, 0x8000);
	assert_int_equal(edrv_phy_read(&d, 9), 0x0300);
	edrv_close(&d);
}

static void test_interrupts(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	edrv_reset(&d);
	bool *level = &d.h->irq_level[EDRV_IRQ];
	/* ICS sets causes; masked ones do not interrupt. */
	ew32(&d, R_ICS, ICR_LSC);
	assert_false(*level);
	ew32(&d, R_IMS, ICR_LSC | ICR_RXT0);
	assert_int_equal(er32(&d, R_IMS), ICR_LSC | ICR_RXT0);
	assert_true(*level);
	/* IMC masks again: the line drops, the cause stays. */
	ew32(&d, R_IMC, ICR_LSC);
	assert_false(*level);
	assert_int_equal(er32(&d, R_IMS), ICR_RXT0);
	ew32(&d, R_IMS, ICR_LSC);
	assert_true(*level);
	/* Reading ICR returns and clears every cause. */
	ew32(&d, R_ICS, ICR_TXDW);
	assert_int_equal(er32(&d, R_ICR), ICR_LSC | ICR_TXDW);
	assert_false(*level);
	assert_int_equal(er32(&d, R_ICR), 0);
	/* Writing 1s to ICR clears those. */
	ew32(&d, R_ICS, ICR_LSC | ICR_RXT0);
	ew32(&d, R_ICR, ICR_LSC);
	assert_true(*level);
	assert_int_equal(er32(&d, R_ICR), ICR_RXT0);
	/* A narrow write to ICR clears only the bits it names. */
	ew32(&d, R_ICS, ICR_LSC | ICR_RXT0);
	hmmio_write(d.h, EDRV_MMIO + R_ICR, ICR_RXT0, 1);
	assert_int_equal(er32(&d, R_ICR), ICR_LSC);
	/* INTx disable in the command register holds the pin low. */
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	ew32(&d, R_ICS, ICR_LSC);
	assert_false(*level);
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	assert_true(*level);
	(void)er32(&d, R_ICR);
	edrv_close(&d);
}

static bool line_up(void *ctx)
{
	return *(bool *)ctx;
}

/* ITR: at least ITR * 256 ns between two assertions of the line. */
static void test_itr(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	edrv_reset(&d);
	bool *level = &d.h->irq_level[EDRV_IRQ];
	ew32(&d, R_ITR, 39063); /* 10 ms */
	ew32(&d, R_IMS, ICR_LSC);
	ew32(&d, R_ICS, ICR_LSC);
	assert_true(*level); /* the first one at once */
	uint64_t t0 = clock_ns();
	assert_int_equal(er32(&d, R_ICR), ICR_LSC);
	ew32(&d, R_ICS, ICR_LSC);
	assert_false(*level); /* too soon */
	assert_true(harness_run_until(d.h, 1000, line_up, level));
	assert_true(clock_ns() - t0 >= 9000000ull);
	(void)er32(&d, R_ICR);
	/* ITR 0: no throttling. */
	ew32(&d, R_ITR, 0);
	ew32(&d, R_ICS, ICR_LSC);
	assert_true(*level);
	(void)er32(&d, R_ICR);
	ew32(&d, R_ICS, ICR_LSC);
	assert_true(*level);
	edrv_close(&d);
}

static void test_link_switch(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	edrv_reset(&d);
	ew32(&d, R_IMS, ICR_LSC);
	struct net_port *port = net_port_find(&d.h->m, "nic");
	assert_non_null(port);
	/* Disconnected: link down, LSC. */
	struct net_switch_cfg cfg;
	net_switch_cfg_defaults(&cfg, NET_SWITCH_NONE, "");
	assert_int_equal(net_port_connect(port, &cfg), 0);
	assert_false(er32(&d, R_STATUS) & STATUS_LU);
	assert_false(edrv_phy_read(&d, 1) & 0x0004);
	assert_true(d.h->irq_level[EDRV_IRQ]);
	assert_int_equal(er32(&d, R_ICR), ICR_LSC);
	/* Frames sent now are dropped, not a crash. */
	edrv_tx_setup(&d, 8);
	uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	unsigned i = edrv_send_legacy(&d, f, sizeof(f));
	assert_true(edrv_tx_done(&d, i));
	/* A new socket: link up, LSC, and frames flow. */
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	close(d.sock);
	d.sock = sv[0];
	net_switch_cfg_defaults(&cfg, NET_SWITCH_FD, "test");
	cfg.fd = sv[1];
	assert_int_equal(net_port_connect(port, &cfg), 0);
	assert_true(er32(&d, R_STATUS) & STATUS_LU);
	assert_int_equal(er32(&d, R_ICR), ICR_LSC | ICR_TXQE | ICR_TXDW);
	edrv_send_legacy(&d, f, sizeof(f));
	uint8_t buf[128];
	assert_int_equal(edrv_sock_recv(&d, buf, sizeof(buf), 1000), 60);
	/* The other end goes away: link down, LSC. */
	close(d.sock);
	d.sock = -1;
	(void)er32(&d, R_ICR);
	harness_run(d.h, 20);
	assert_false(er32(&d, R_STATUS) & STATUS_LU);
	assert_true(er32(&d, R_ICR) & ICR_LSC);
	edrv_close(&d);
}

static void test_reset(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	edrv_tx_setup(&d, 8);
	edrv_rx_setup(&d, 8, 4, RCTL_BAM);
	ew32(&d, R_IMS, ICR_LSC);
	ew32(&d, R_RAL0, 0x11223344);
	ew32(&d, R_MTA + 8, 0xffffffff);
	ew32(&d, R_ICS, ICR_LSC);
	assert_true(d.h->irq_level[EDRV_IRQ]);
	/* CTRL.RST: registers to their power-on values, the MAC from the EEPROM. */
	ew32(&d, R_CTRL, CTRL_RST);
	assert_false(d.h->irq_level[EDRV_IRQ]);
	assert_int_equal(er32(&d, R_CTRL) & CTRL_RST, 0);
	assert_int_equal(er32(&d, R_RCTL), 0);
	assert_int_equal(er32(&d, R_TCTL), 0);
	assert_int_equal(er32(&d, R_TDLEN), 0);
	assert_int_equal(er32(&d, R_IMS), 0);
	assert_int_equal(er32(&d, R_ICR), 0);
	assert_int_equal(er32(&d, R_MTA + 8), 0);
	assert_int_equal(er32(&d, R_RAL0), 0x00534f52u);
	assert_int_equal(er32(&d, R_VET), 0x8100);
	/* The device model's reset (platform reset) does the same and the
	 * PCI side too. */
	ew32(&d, R_RDLEN, 4096);
	machine_reset_devices(&d.h->m);
	assert_int_equal(edrv_cfg_read(&d, PCI_COMMAND, 2), 0);
	edrv_cfg_write(&d, PCI_BASE_ADDRESS_0, (uint32_t)EDRV_MMIO, 4);
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(er32(&d, R_RDLEN), 0);
	edrv_close(&d);
}

static void test_registers(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	/* Unknown registers read 0 and ignore writes; narrow accesses work. */
	ew32(&d, 0x0ff0, 0xffffffff);
	assert_int_equal(er32(&d, 0x0ff0), 0);
	ew32(&d, 0x1fff0, 0xffffffff);
	assert_int_equal(er32(&d, 0x1fff0), 0);
	ew32(&d, R_TDLEN, 0xffffffff);
	assert_int_equal(er32(&d, R_TDLEN), 0x000fff80); /* a multiple of 128 */
	ew32(&d, R_TDBAL, 0x12345678);
	assert_int_equal(er32(&d, R_TDBAL), 0x12345670);
	hmmio_write(d.h, EDRV_MMIO + R_TIPG + 1, 0xab, 1);
	assert_int_equal(er32(&d, R_TIPG) & 0xff00, 0xab00);
	assert_int_equal(hmmio_read(d.h, EDRV_MMIO + R_RAL0 + 2, 2), 0x0053);
	/* MTA and VFTA hold all 128 words each. */
	for (unsigned i = 0; i < 128; i++) {
		ew32(&d, R_MTA + 4 * i, i * 3);
		ew32(&d, R_VFTA + 4 * i, i * 5);
	}
	for (unsigned i = 0; i < 128; i++) {
		assert_int_equal(er32(&d, R_MTA + 4 * i), i * 3);
		assert_int_equal(er32(&d, R_VFTA + 4 * i), i * 5);
	}
	/* The I/O window: IOADDR selects, IODATA reaches the register. */
	houtl(d.h, EDRV_IO, R_RAL0);
	assert_int_equal(hinl(d.h, EDRV_IO), R_RAL0);
	assert_int_equal(hinl(d.h, EDRV_IO + 4), 0x00534f52u);
	houtl(d.h, EDRV_IO, R_ITR);
	houtl(d.h, EDRV_IO + 4, 1234);
	assert_int_equal(er32(&d, R_ITR), 1234);
	houtl(d.h, EDRV_IO, 0x1fffc);
	assert_int_equal(hinl(d.h, EDRV_IO + 4), 0);
	edrv_close(&d);
}

static void test_statistics(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	edrv_reset(&d);
	edrv_tx_setup(&d, 8);
	uint8_t f[100] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	edrv_send_legacy(&d, f, sizeof(f));
	edrv_send_legacy(&d, f, sizeof(f));
	assert_int_equal(er32(&d, R_GPTC), 2);
	assert_int_equal(er32(&d, R_GPTC), 0); /* cleared by reading */
	assert_int_equal(er32(&d, R_TPT), 2);
	/* Receive octets: the low half stays until the high half is read. */
	edrv_rx_setup(&d, 8, 7, RCTL_BAM);
	edrv_sock_send(&d, f, sizeof(f));
	edrv_rx_wait(&d);
	assert_int_equal(er32(&d, R_GPRC), 1);
	assert_int_equal(er32(&d, R_GORCL), 104);
	assert_int_equal(er32(&d, R_GORCL), 104);
	assert_int_equal(er32(&d, R_GORCH), 0);
	assert_int_equal(er32(&d, R_GORCL), 0);
	edrv_close(&d);
}

static int add_nic(struct harness *h, const char *args)
{
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, args), 0);
	return machine_add_device(&h->m, "e1000", "nic", &a);
}

static void test_create_errors(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_init(h, 16 << 20);
	/* No PCI bus. */
	assert_int_equal(add_nic(h, "mac=" EDRV_MAC), -ENODEV);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	assert_true(add_nic(h, "mac=" EDRV_MAC ",bogus=1") < 0);
	assert_true(add_nic(h, "slot=4") < 0); /* no mac */
	assert_int_equal(add_nic(h, "mac=" EDRV_MAC ",slot=99"), -EINVAL);
	assert_int_equal(add_nic(h, "mac=" EDRV_MAC ",slot=1"), -EEXIST);
	assert_int_equal(add_nic(h, "mac=" EDRV_MAC ",rom=/nonexistent/pxe.rom"), -ENOENT);
	/* A file that is not an option ROM. */
	char path[] = "/tmp/e1000-rom-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a rom", 9), 9);
	close(fd);
	char args[128];
	snprintf(args, sizeof(args), "mac=" EDRV_MAC ",rom=%s", path);
	assert_int_equal(add_nic(h, args), -EINVAL);
	/* A real one: 55 AA, mapped through the ROM BAR. */
	fd = open(path, O_WRONLY | O_TRUNC);
	uint8_t rom[2048] = {0x55, 0xaa, 4};
	assert_int_equal(write(fd, rom, sizeof(rom)), (ssize_t)sizeof(rom));
	close(fd);
	snprintf(args, sizeof(args), "mac=" EDRV_MAC ",slot=4,rom=%s", path);
	assert_int_equal(add_nic(h, args), 0);
	unlink(path);
	struct edrv d = {.h = h, .sock = -1};
	edrv_cfg_write(&d, PCI_ROM_ADDRESS, 0xfeb00000u | PCI_ROM_ADDRESS_ENABLE, 4);
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	const uint8_t *r = gpa_to_hva_ro(&h->m.mem, 0xfeb00000u, 3);
	assert_non_null(r);
	assert_int_equal(r[0] | r[1] << 8, 0xaa55);
	assert_int_equal(r[2], 4);
	harness_fini(h);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pci_identity), cmocka_unit_test(test_eeprom),
	    cmocka_unit_test(test_phy),		 cmocka_unit_test(test_interrupts),
	    cmocka_unit_test(test_itr),		 cmocka_unit_test(test_link_switch),
	    cmocka_unit_test(test_reset),	 cmocka_unit_test(test_registers),
	    cmocka_unit_test(test_statistics),	 cmocka_unit_test(test_create_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
