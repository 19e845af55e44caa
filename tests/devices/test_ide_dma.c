/* Bus-master DMA of the PIIX3 IDE function with real PRD tables in guest
 * RAM, as Linux (ata_bmdma_setup/start/stop, ata_bmdma_port_intr) and
 * SeaBIOS (ata_try_dma, ata_dma_transfer) drive it: data checked against
 * the image file's bytes, the bus-master status bits of SFF-8038i, and PRD
 * tables that point outside RAM, end too soon or never end. */
#include "tests/devices/test_ide.h"

#include <errno.h>

#define DISK_SECTORS 16384u /* 8 MiB */
#define TABLE	     0x10000u
#define BUF	     0x100000u

struct fx {
	struct harness *h;
	char disk[64], disk2[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	make_image(f->disk, sizeof(f->disk), DISK_SECTORS * 512ull, 3);
	make_image(f->disk2, sizeof(f->disk2), 1024 * 512, 0x77);
	char args[256];
	snprintf(args, sizeof(args), "drive0=disk:%s,drive2=disk:%s", f->disk, f->disk2);
	f->h = ide_machine(args);
	houtb(f->h, PRI_CTL, CTL_OBS);
	houtb(f->h, SEC_CTL, CTL_OBS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ide_machine_free(f->h);
	unlink(f->disk);
	unlink(f->disk2);
	free(f);
	return 0;
}

/* Linux's order: bmdma_setup, the command, bmdma_start; then, on the
 * interrupt, the bus master status, bmdma_stop, the device status, and the
 * interrupt bits written back to clear them. Returns the bus master status
 * seen at the interrupt. */
static uint8_t linux_dma(struct harness *h, uint16_t base, uint16_t ctl, uint16_t bm, unsigned irq,
			 uint8_t cmd, uint64_t lba, uint32_t count, bool to_mem,
			 uint8_t *dev_status)
{
	bool ext = cmd == 0x25 || cmd == 0x35;
	bm_setup(h, bm, TABLE, to_mem);
	ata_command(h, base, 0, cmd, 0, count, lba, ext);
	bm_start(h, bm);
	uint8_t bst = wait_bm_int(h, bm);
	assert_true(h->irq_level[irq]);
	bm_stop(h, bm);
	*dev_status = hinb(h, (uint16_t)(base + R_STATUS));
	assert_false(h->irq_level[irq]);
	houtb(h, (uint16_t)(bm + BMI_STATUS), hinb(h, (uint16_t)(bm + BMI_STATUS)));
	assert_int_equal(hinb(h, (uint16_t)(bm + BMI_STATUS)) & (BM_INT | BM_ERROR), 0);
	return bst;
}

/* Several entries of odd (even-byte) sizes at scattered addresses. */
static void test_read_scattered(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	static const uint32_t addr[] = {BUF + 0x8000, BUF + 2, BUF + 0x20006, BUF + 0x4000};
	static const uint32_t size[] = {1000, 1002, 2, 2092};
	for (int i = 0; i < 4; i++)
		prd_set(h, TABLE, (unsigned)i, addr[i], size[i], i == 3);
	memset(hram(h, BUF, 0x30000), 0xee, 0x30000);
	uint8_t dst;
	uint8_t bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 77, 8, true, &dst);
	/* Interrupt, and the table used up exactly: not active. */
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT);
	assert_int_equal(dst & (S_BSY | S_DRQ | S_ERR | S_DRDY), S_DRDY);
	uint64_t off = 77 * 512;
	for (int i = 0; i < 4; i++) {
		uint8_t *p = hram(h, addr[i], size[i] + 2);
		check_pattern(p, size[i], off, 3);
		assert_int_equal(p[size[i]], 0xee); /* nothing beyond the entry */
		off += size[i];
	}
	assert_int_equal(*(uint8_t *)hram(h, BUF, 1), 0xee);
	/* The task file names the last sector read. */
	assert_int_equal(hinb(h, PRI + R_LBAL), 84);
}

/* 64 KiB entries (count 0) and an LBA48 transfer of 4 MiB. */
static void test_read_64k_entries(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	const unsigned n = 64;
	for (unsigned i = 0; i < n; i++)
		prd_set(h, TABLE, i, BUF + i * 0x10000, 0, i == n - 1);
	uint8_t dst;
	uint8_t bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0x25, 4096, 8192, true, &dst);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT);
	assert_int_equal(dst & (S_BSY | S_DRQ | S_ERR), 0);
	check_pattern(hram(h, BUF, 4u << 20), 4u << 20, 4096 * 512, 3);
}

/* A table larger than the transfer: interrupt with active still set. */
static void test_table_larger(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	prd_set(h, TABLE, 0, BUF, 1024, false);
	prd_set(h, TABLE, 1, BUF + 0x1000, 4096, true);
	uint8_t dst;
	uint8_t bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 0, 4, true, &dst);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT | BM_ACTIVE);
	assert_int_equal(dst & S_ERR, 0);
	check_pattern(hram(h, BUF, 1024), 1024, 0, 3);
	check_pattern(hram(h, BUF + 0x1000, 1024), 1024, 1024, 3);
	/* bmdma_stop cleared active. */
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS) & BM_ACTIVE, 0);
}

static void test_write(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	uint8_t *a = hram(h, BUF, 0x3000);
	for (int i = 0; i < 0x3000; i++)
		a[i] = (uint8_t)(i * 13 + 1);
	/* 3 sectors from three pieces. */
	prd_set(h, TABLE, 0, BUF + 0x2000, 512, false);
	prd_set(h, TABLE, 1, BUF + 6, 514, false);
	prd_set(h, TABLE, 2, BUF + 0x1000, 510, true);
	uint8_t dst;
	uint8_t bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0x35, 1000, 3, false, &dst);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT);
	assert_int_equal(dst & (S_ERR | S_DRQ | S_BSY), 0);
	uint8_t back[1536 + 2];
	file_read(f->disk, back, sizeof(back), 1000 * 512 - 1);
	assert_int_equal(back[0], img_byte(1000 * 512 - 1, 3));
	assert_memory_equal(back + 1, a + 0x2000, 512);
	assert_memory_equal(back + 513, a + 6, 514);
	assert_memory_equal(back + 1027, a + 0x1000, 510);
	assert_int_equal(back[1537], img_byte(1003 * 512, 3));
	/* FLUSH CACHE after it, as Linux does for a barrier. */
	ata_command(h, PRI, 0, 0xe7, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	hinb(h, PRI + R_STATUS);
}

/* SeaBIOS: table built by ata_try_dma (entries split at 64 KiB
 * boundaries), the bus master started after the command, then polled. */
static void test_seabios_order(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	uint32_t dest = BUF + 0xf000; /* crosses a 64 KiB line */
	uint32_t bytes = 40 * 512;
	unsigned n = 0;
	for (uint32_t left = bytes, d = dest; left; n++) {
		uint32_t c = left, max = 0x10000 - (d & 0xffff);
		if (c > max)
			c = max;
		left -= c;
		prd_set(h, TABLE, n, d, c, left == 0);
		d += c;
	}
	assert_int_equal(n, 2);
	houtl(h, BM_BASE + BMI_PRD, TABLE);
	uint8_t old = hinb(h, BM_BASE + BMI_CMD) & (uint8_t) ~(BM_TO_MEM | BM_START);
	houtb(h, BM_BASE + BMI_CMD, old | BM_TO_MEM);
	houtb(h, BM_BASE + BMI_STATUS, BM_ERROR | BM_INT);
	ata_command(h, PRI, 0, 0xc8, 0, 40, 3000, false);
	houtb(h, BM_BASE + BMI_CMD, hinb(h, BM_BASE + BMI_CMD) | BM_START);
	uint8_t bst = wait_bm_int(h, BM_BASE);
	houtb(h, BM_BASE + BMI_CMD, old);
	hinb(h, PRI_CTL);
	uint8_t ide = wait_not_busy(h, PRI_CTL);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE), BM_INT);
	assert_int_equal(ide & (S_BSY | S_DRQ | S_ERR), 0);
	check_pattern(hram(h, dest, bytes), bytes, 3000 * 512, 3);
	hinb(h, PRI + R_STATUS);
}

/* The bus master may be started before the command, too. */
static void test_start_first(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	prd_set(h, TABLE, 0, BUF, 2048, true);
	bm_setup(h, BM_BASE, TABLE, true);
	bm_start(h, BM_BASE);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS) & BM_ACTIVE, BM_ACTIVE);
	ata_command(h, PRI, 0, 0xc8, 0, 4, 50, false);
	uint8_t bst = wait_bm_int(h, BM_BASE);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE), BM_INT);
	bm_stop(h, BM_BASE);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	check_pattern(hram(h, BUF, 2048), 2048, 50 * 512, 3);
	hinb(h, PRI + R_STATUS);
}

/* The secondary channel's registers at BAR4 + 8, IRQ 15. */
static void test_secondary(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	prd_set(h, TABLE, 0, BUF, 8 * 512, true);
	uint8_t dst;
	uint8_t bst = linux_dma(h, SEC, SEC_CTL, BM_BASE + 8, 15, 0xc8, 500, 8, true, &dst);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT);
	check_pattern(hram(h, BUF, 4096), 4096, 500 * 512, 0x77);
	assert_int_equal(h->irq_raised[14], 0);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS) & BM_INT, 0);
}

/* One bus master per channel: a DMA command to the slave while the
 * master's transfer runs waits until the guest starts the engine again,
 * and then goes to its own table. */
static void test_one_transfer_per_channel(void **state)
{
	(void)state;
	char a[64], b[64];
	make_image(a, sizeof(a), 16384 * 512ull, 0x11);
	make_image(b, sizeof(b), 64 * 512, 0x22);
	char args[160];
	snprintf(args, sizeof(args), "drive0=disk:%s,drive1=disk:%s", a, b);
	struct harness *h = ide_machine(args);
	houtb(h, PRI_CTL, CTL_OBS);
	for (unsigned i = 0; i < 128; i++)
		prd_set(h, TABLE, i, BUF + i * 0x10000, 0, i == 127);
	bm_setup(h, BM_BASE, TABLE, true);
	ata_command(h, PRI, 0, 0x25, 0, 16384, 0, true); /* 8 MiB */
	bm_start(h, BM_BASE);
	/* At once: the slave, READ DMA into the same table. */
	ata_command(h, PRI, 1, 0xc8, 0, 4, 8, false);
	assert_int_equal(hinb(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	/* The master's transfer ends; its interrupt shows once it is
	 * selected again. */
	houtb(h, PRI + R_DEV, 0xa0);
	uint8_t bst = wait_bm_int(h, BM_BASE);
	assert_int_equal(bst & (BM_ACTIVE | BM_ERROR), 0);
	bm_stop(h, BM_BASE);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_ERR | S_DRQ | S_BSY), 0);
	check_pattern(hram(h, BUF, 8u << 20), 8u << 20, 0, 0x11);
	/* The slave still waits for the bus master. */
	houtb(h, PRI + R_DEV, 0xb0);
	assert_int_equal(hinb(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	prd_set(h, TABLE, 0, BUF, 2048, true);
	bm_setup(h, BM_BASE, TABLE, true);
	bm_start(h, BM_BASE);
	bst = wait_bm_int(h, BM_BASE);
	bm_stop(h, BM_BASE);
	assert_int_equal(bst & (BM_ACTIVE | BM_ERROR), 0);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_ERR | S_DRQ | S_BSY), 0);
	check_pattern(hram(h, BUF, 2048), 2048, 8 * 512, 0x22);
	check_pattern(hram(h, BUF + 2048, 4096), 4096, 2048, 0x11);
	ide_machine_free(h);
	unlink(a);
	unlink(b);
}

/* --- bad tables -------------------------------------------------------------------- */

/* The error bit, the interrupt, active clear; the device aborts. */
static void expect_bus_error(struct harness *h, uint8_t bst, uint8_t dst)
{
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT | BM_ERROR);
	assert_int_equal(dst & (S_ERR | S_DRQ | S_BSY), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x04);
}

static void test_prd_outside_ram(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	/* A good entry then one past the end of RAM: nothing is read into
	 * the good one either. */
	memset(hram(h, BUF, 0x1000), 0xee, 0x1000);
	prd_set(h, TABLE, 0, BUF, 512, false);
	prd_set(h, TABLE, 1, 0xf0000000u, 512, true);
	uint8_t dst;
	uint8_t bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 0, 2, true, &dst);
	expect_bus_error(h, bst, dst);
	for (int i = 0; i < 0x1000; i++)
		assert_int_equal(((uint8_t *)hram(h, BUF, 0x1000))[i], 0xee);
	/* Straddling the end of RAM. */
	prd_set(h, TABLE, 0, RAM_SIZE - 512, 1024, true);
	bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 0, 2, true, &dst);
	expect_bus_error(h, bst, dst);
	/* The VGA hole below 1 MiB is not RAM either. */
	prd_set(h, TABLE, 0, 0x9fe00, 1024, true);
	bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 0, 2, true, &dst);
	expect_bus_error(h, bst, dst);
	/* A write from outside RAM writes nothing to the image. */
	prd_set(h, TABLE, 0, BUF, 512, false);
	prd_set(h, TABLE, 1, 0xfff00000u, 512, true);
	bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xca, 10, 2, false, &dst);
	expect_bus_error(h, bst, dst);
	uint8_t back[1024];
	file_read(f->disk, back, sizeof(back), 10 * 512);
	check_pattern(back, sizeof(back), 10 * 512, 3);
	/* The channel works again afterwards. */
	prd_set(h, TABLE, 0, BUF, 512, true);
	bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 9, 1, true, &dst);
	assert_int_equal(bst & (BM_INT | BM_ERROR | BM_ACTIVE), BM_INT);
	check_pattern(hram(h, BUF, 512), 512, 9 * 512, 3);
}

static void test_table_outside_ram(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	bm_setup(h, BM_BASE, 0xfffffff8u, true);
	ata_command(h, PRI, 0, 0xc8, 0, 1, 0, false);
	bm_start(h, BM_BASE);
	uint8_t bst = wait_bm_int(h, BM_BASE);
	bm_stop(h, BM_BASE);
	expect_bus_error(h, bst, hinb(h, PRI + R_STATUS));
	/* The table address keeps dword alignment. */
	houtl(h, BM_BASE + BMI_PRD, 0x12345677);
	assert_int_equal(hinl(h, BM_BASE + BMI_PRD), 0x12345674);
}

/* EOT before the transfer is done: active and interrupt clear, no error
 * (SFF-8038i's "PRD smaller than transfer"); the device does not finish
 * and the host resets it. */
static void test_table_too_short(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	memset(hram(h, BUF, 4096), 0xee, 4096);
	prd_set(h, TABLE, 0, BUF, 1024, true);
	unsigned before = h->irq_raised[14];
	bm_setup(h, BM_BASE, TABLE, true);
	ata_command(h, PRI, 0, 0xc8, 0, 4, 0, false);
	bm_start(h, BM_BASE);
	harness_run(h, 20);
	uint8_t bst = hinb(h, BM_BASE + BMI_STATUS);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), 0);
	assert_int_equal(h->irq_raised[14], before);
	assert_int_equal(((uint8_t *)hram(h, BUF, 1))[0], 0xee);
	bm_stop(h, BM_BASE);
	houtb(h, PRI_CTL, CTL_OBS | CTL_SRST);
	houtb(h, PRI_CTL, CTL_OBS);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRDY | S_DRQ), S_DRDY);
	prd_set(h, TABLE, 0, BUF, 2048, true);
	uint8_t dst;
	bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 0, 4, true, &dst);
	assert_int_equal(bst & (BM_INT | BM_ERROR), BM_INT);
	check_pattern(hram(h, BUF, 2048), 2048, 0, 3);
}

/* No EOT anywhere: the walk stops at the table's 64 KiB boundary with an
 * error instead of running through memory. */
static void test_table_without_eot(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	for (unsigned i = 0; i < 8192; i++)
		prd_set(h, TABLE, i, BUF + 2 * i, 2, false);
	uint8_t dst;
	uint8_t bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0x25, 0, 128, true, &dst);
	expect_bus_error(h, bst, dst);
	/* A table without EOT that covers the transfer is fine. */
	for (unsigned i = 0; i < 16; i++)
		prd_set(h, TABLE, i, BUF + 512 * i, 512, false);
	bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 100, 16, true, &dst);
	assert_int_equal(bst & (BM_INT | BM_ERROR | BM_ACTIVE), BM_INT | BM_ACTIVE);
	check_pattern(hram(h, BUF, 8192), 8192, 100 * 512, 3);
}

/* Without bus mastering in PCI COMMAND the controller cannot reach memory. */
static void test_bus_master_off(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	cfg_write(h, IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
	memset(hram(h, BUF, 512), 0xee, 512);
	prd_set(h, TABLE, 0, BUF, 512, true);
	uint8_t dst;
	uint8_t bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 0, 1, true, &dst);
	expect_bus_error(h, bst, dst);
	assert_int_equal(((uint8_t *)hram(h, BUF, 1))[0], 0xee);
	cfg_write(h, IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	bst = linux_dma(h, PRI, PRI_CTL, BM_BASE, 14, 0xc8, 0, 1, true, &dst);
	assert_int_equal(bst & (BM_INT | BM_ERROR), BM_INT);
}

/* The registers themselves: writable bits, write-1-to-clear bits. */
static void test_registers(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, BM_BASE + BMI_CMD, 0xff & ~BM_START);
	assert_int_equal(hinb(h, BM_BASE + BMI_CMD), BM_TO_MEM);
	houtb(h, BM_BASE + BMI_STATUS, 0xff);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS), 0x60); /* drive DMA capable bits */
	houtb(h, BM_BASE + BMI_STATUS, 0x00);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS), 0x00);
	houtl(h, BM_BASE + 8 + BMI_PRD, 0xabcd0000);
	assert_int_equal(hinl(h, BM_BASE + 8 + BMI_PRD), 0xabcd0000);
	assert_int_equal(hinl(h, BM_BASE + BMI_PRD), 0);
	/* Start without a DMA command: active, nothing else. */
	bm_start(h, BM_BASE);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS), BM_ACTIVE);
	bm_stop(h, BM_BASE);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS), 0);
	/* A reset clears them. */
	houtl(h, BM_BASE + BMI_PRD, 0x1000);
	machine_reset_devices(&h->m);
	bios_pci_setup(h);
	assert_int_equal(hinl(h, BM_BASE + BMI_PRD), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_scattered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_64k_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_larger, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seabios_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secondary, setup, teardown),
	    cmocka_unit_test(test_one_transfer_per_channel),
	    cmocka_unit_test_setup_teardown(test_prd_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_too_short, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_without_eot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bus_master_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
