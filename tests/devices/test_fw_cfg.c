/* fw_cfg device tests: the test drives the ports and the DMA interface the
 * way SeaBIOS (src/fw/paravirt.c) and Linux (qemu_fw_cfg.c) do. */
#include "devices/fw_cfg.h"
#include "hypervisor/platform.h"
#include "tests/devices/harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM	(16 * MiB)
#define SEL	PORT_FW_CFG
#define DATA	(PORT_FW_CFG + 1)
#define DMA_HI	(PORT_FW_CFG + 4)
#define DMA_LO	(PORT_FW_CFG + 8)
#define DESC	0x2000ull   /* where the tests put FWCfgDmaAccess */
#define BUF	0x100000ull /* DMA buffers */
#define NOT_RAM 0xfff00000ull

struct ctx {
	struct harness h;
	void *fw;
};

static int setup_with(void **state, unsigned cpus, const char *args)
{
	struct ctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	harness_init(&c->h, RAM);
	c->h.m.cpus = cpus;
	harness_add(&c->h, "fw_cfg", "fw_cfg", args);
	c->fw = machine_device(&c->h.m, "fw_cfg");
	assert_non_null(c->fw);
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 1, NULL);
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	harness_fini(&c->h);
	free(c);
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* SeaBIOS: outw(key, PORT_QEMU_CFG_CTL); insb(PORT_QEMU_CFG_DATA, ...). */
static void port_select(struct harness *h, uint16_t key)
{
	houtw(h, SEL, key);
}

static void port_read(struct harness *h, void *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = hinb(h, DATA);
}

static void port_read_key(struct harness *h, uint16_t key, void *buf, size_t len)
{
	port_select(h, key);
	port_read(h, buf, len);
}

/* Writes a descriptor at `desc` and hands its address over the way Linux
 * does (high half, then low half, both big-endian); returns the control
 * word the device left there. */
static uint32_t dma_at(struct harness *h, uint64_t desc, uint32_t control, uint32_t len,
		       uint64_t addr)
{
	uint8_t *d = hram(h, desc, 16);
	put_be32(d, control);
	put_be32(d + 4, len);
	put_be32(d + 8, (uint32_t)(addr >> 32));
	put_be32(d + 12, (uint32_t)addr);
	houtl(h, DMA_HI, __builtin_bswap32((uint32_t)(desc >> 32)));
	houtl(h, DMA_LO, __builtin_bswap32((uint32_t)desc));
	return get_be32(d);
}

static uint32_t dma(struct harness *h, uint32_t control, uint32_t len, uint64_t addr)
{
	return dma_at(h, DESC, control, len, addr);
}

static uint32_t sel_read(uint16_t key)
{
	return (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void test_signature_and_id(void **state)
{
	struct ctx *c = *state;
	char sig[5] = {0};
	/* SeaBIOS's detection: select 0 and compare four data bytes. */
	port_read_key(&c->h, FW_CFG_SIGNATURE, sig, 4);
	assert_string_equal(sig, "QEMU");
	uint8_t id[4];
	port_read_key(&c->h, FW_CFG_ID, id, 4);
	assert_int_equal(id[0], FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	assert_int_equal(id[1] | id[2] | id[3], 0);
	/* Reading past the end of an item gives zeros. */
	uint8_t more[4];
	port_read(&c->h, more, 4);
	assert_int_equal(more[0] | more[1] | more[2] | more[3], 0);
	/* The same through DMA. */
	memset(hram(&c->h, BUF, 8), 0xaa, 8);
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_SIGNATURE), 4, BUF), 0);
	assert_memory_equal(hram(&c->h, BUF, 4), "QEMU", 4);
	assert_int_equal(*(uint8_t *)hram(&c->h, BUF + 4, 1), 0xaa);
}

static void test_dma_signature_register(void **state)
{
	struct ctx *c = *state;
	const char *sig = "QEMU CFG";
	for (int i = 0; i < 8; i++)
		assert_int_equal(hinb(&c->h, DMA_HI + i), (uint8_t)sig[i]);
	uint32_t hi = hinl(&c->h, DMA_HI), lo = hinl(&c->h, DMA_LO);
	assert_memory_equal(&hi, "QEMU", 4);
	assert_memory_equal(&lo, " CFG", 4);
	/* A 64-bit read, taken as big-endian, is the documented number. */
	uint64_t v = bus_read_val(c->h.m.pio, DMA_HI, 8);
	assert_true(__builtin_bswap64(v) == FW_CFG_DMA_SIGNATURE);
}

static void test_no_dma(void **state)
{
	struct ctx *c;
	setup_with((void **)&c, 1, "dma=no");
	uint8_t id[4];
	port_read_key(&c->h, FW_CFG_ID, id, 4);
	assert_int_equal(id[0], FW_CFG_VERSION);
	/* Nothing answers at the DMA register. */
	assert_int_equal(hinl(&c->h, DMA_HI), 0xffffffffu);
	char sig[5] = {0};
	port_read_key(&c->h, FW_CFG_SIGNATURE, sig, 4);
	assert_string_equal(sig, "QEMU");
	void *s = c;
	teardown(&s);
}

static void test_standard_keys(void **state)
{
	struct ctx *c;
	setup_with((void **)&c, 3, NULL);
	uint8_t b[16];
	port_read_key(&c->h, FW_CFG_NB_CPUS, b, 2);
	assert_int_equal(le16(b), 3);
	port_read_key(&c->h, FW_CFG_MAX_CPUS, b, 2);
	assert_int_equal(le16(b), 3);
	port_read_key(&c->h, FW_CFG_RAM_SIZE, b, 8);
	assert_true(le64(b) == RAM);
	port_read_key(&c->h, FW_CFG_NOGRAPHIC, b, 2);
	assert_int_equal(le16(b), 0);
	port_read_key(&c->h, FW_CFG_BOOT_MENU, b, 2);
	assert_int_equal(le16(b), 0);
	static const uint8_t zero[16];
	port_read_key(&c->h, FW_CFG_UUID, b, 16);
	assert_memory_equal(b, zero, 16);

	/* The boot code may change them. */
	uint8_t uuid[16];
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(0x10 + i);
	assert_int_equal(fw_cfg_add_bytes(c->fw, FW_CFG_UUID, uuid, 16), 0);
	port_read_key(&c->h, FW_CFG_UUID, b, 16);
	assert_memory_equal(b, uuid, 16);
	assert_int_equal(fw_cfg_add_u16(c->fw, FW_CFG_BOOT_MENU, 1), 0);
	port_read_key(&c->h, FW_CFG_BOOT_MENU, b, 3);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 0);
	assert_int_equal(b[2], 0); /* only two bytes there */

	/* Numbers are little-endian. */
	assert_int_equal(fw_cfg_add_u32(c->fw, FW_CFG_KERNEL_SIZE, 0x11223344), 0);
	port_read_key(&c->h, FW_CFG_KERNEL_SIZE, b, 4);
	assert_memory_equal(b, "\x44\x33\x22\x11", 4);
	assert_int_equal(fw_cfg_add_u64(c->fw, FW_CFG_E820_TABLE, 0x0102030405060708ull), 0);
	port_read_key(&c->h, FW_CFG_E820_TABLE, b, 8);
	assert_memory_equal(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	const char *cmd = "console=ttyS0";
	assert_int_equal(fw_cfg_add_bytes(c->fw, FW_CFG_CMDLINE_DATA, cmd, strlen(cmd) + 1), 0);
	char line[32];
	port_read_key(&c->h, FW_CFG_CMDLINE_DATA, line, strlen(cmd) + 1);
	assert_string_equal(line, cmd);
	void *s = c;
	teardown(&s);
}

static void test_api_errors(void **state)
{
	struct ctx *c = *state;
	uint8_t x = 1;
	assert_int_equal(fw_cfg_add_bytes(c->fw, FW_CFG_ID, &x, 1), -EINVAL);
	assert_int_equal(fw_cfg_add_bytes(c->fw, FW_CFG_FILE_DIR, &x, 1), -EINVAL);
	assert_int_equal(fw_cfg_add_bytes(c->fw, FW_CFG_FILE_FIRST, &x, 1), -EINVAL);
	assert_int_equal(fw_cfg_add_bytes(c->fw, FW_CFG_WRITE_CHANNEL | 5, &x, 1), -EINVAL);
	assert_int_equal(fw_cfg_add_bytes(c->fw, FW_CFG_ARCH_LOCAL + 0x20, &x, 1), -EINVAL);
	assert_int_equal(fw_cfg_add_file(c->fw, "", &x, 1), -EINVAL);
	char name[FW_CFG_MAX_FILE_PATH + 1];
	memset(name, 'a', FW_CFG_MAX_FILE_PATH);
	name[FW_CFG_MAX_FILE_PATH] = 0;
	assert_int_equal(fw_cfg_add_file(c->fw, name, &x, 1), -ENAMETOOLONG);
	name[FW_CFG_MAX_FILE_PATH - 1] = 0; /* 55 characters fit */
	assert_int_equal(fw_cfg_add_file(c->fw, name, &x, 1), 0);
	assert_int_equal(fw_cfg_add_file(c->fw, "etc/e820", &x, 1), 0);
	assert_int_equal(fw_cfg_add_file(c->fw, "etc/e820", &x, 1), -EEXIST);

	/* Nothing half-added: two files in the directory. */
	uint8_t cnt[4];
	port_read_key(&c->h, FW_CFG_FILE_DIR, cnt, 4);
	assert_int_equal(get_be32(cnt), 2);
}

struct dirent {
	uint32_t size;
	uint16_t select;
	char name[FW_CFG_MAX_FILE_PATH];
};

/* SeaBIOS's qemu_romfile_init: read the count, then entry after entry. */
static unsigned read_dir(struct harness *h, struct dirent *out, unsigned max)
{
	uint8_t cnt[4];
	port_read_key(h, FW_CFG_FILE_DIR, cnt, 4);
	unsigned n = get_be32(cnt);
	assert_true(n <= max);
	for (unsigned i = 0; i < n; i++) {
		uint8_t e[64];
		port_read(h, e, sizeof(e));
		out[i].size = get_be32(e);
		out[i].select = get_be16(e + 4);
		assert_int_equal(get_be16(e + 6), 0);
		memcpy(out[i].name, e + 8, FW_CFG_MAX_FILE_PATH);
		assert_non_null(memchr(out[i].name, 0, FW_CFG_MAX_FILE_PATH));
	}
	return n;
}

static const struct dirent *find_file(const struct dirent *d, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	return NULL;
}

static const char *const sample_names[] = {"etc/e820", "bootorder", "etc/acpi/tables",
					   "genroms/linuxboot_dma.bin", "etc/acpi/rsdp"};

static void add_samples(struct ctx *c)
{
	for (unsigned i = 0; i < 5; i++) {
		char data[64];
		int n = snprintf(data, sizeof(data), "content of %s", sample_names[i]);
		assert_int_equal(fw_cfg_add_file(c->fw, sample_names[i], data, (size_t)n), 0);
	}
}

static void test_file_dir(void **state)
{
	struct ctx *c = *state;
	add_samples(c);
	struct dirent d[8];
	unsigned n = read_dir(&c->h, d, 8);
	assert_int_equal(n, 5);
	/* Sorted by name, selectors from 0x20 in that order (as QEMU). */
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(d[i].select, FW_CFG_FILE_FIRST + i);
		if (i)
			assert_true(strcmp(d[i - 1].name, d[i].name) < 0);
	}
	assert_string_equal(d[0].name, "bootorder");
	assert_string_equal(d[4].name, "genroms/linuxboot_dma.bin");
	/* Look each one up by name and read it through the ports. */
	for (unsigned i = 0; i < 5; i++) {
		const struct dirent *f = find_file(d, n, sample_names[i]);
		assert_non_null(f);
		char want[64], got[64];
		int len = snprintf(want, sizeof(want), "content of %s", sample_names[i]);
		assert_int_equal(f->size, len);
		port_read_key(&c->h, f->select, got, f->size);
		assert_memory_equal(got, want, f->size);
	}
	assert_null(find_file(d, n, "etc/missing"));
}

static void test_file_dma(void **state)
{
	struct ctx *c = *state;
	add_samples(c);
	struct dirent d[8];
	unsigned n = read_dir(&c->h, d, 8);
	const struct dirent *f = find_file(d, n, "etc/acpi/tables");
	assert_non_null(f);
	const char *want = "content of etc/acpi/tables";
	size_t len = strlen(want);
	assert_int_equal(f->size, len);
	uint8_t *buf = hram(&c->h, BUF, 64);

	/* select + read of the whole file */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(&c->h, sel_read(f->select), (uint32_t)len, BUF), 0);
	assert_memory_equal(buf, want, len);
	assert_int_equal(buf[len], 0xaa);

	/* Partial reads continue where the last one stopped. */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(&c->h, sel_read(f->select), 5, BUF), 0);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_READ, 7, BUF + 5), 0);
	assert_memory_equal(buf, want, 12);
	assert_int_equal(buf[12], 0xaa);

	/* Skip, then read (SeaBIOS's qemu_cfg_skip). */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_SKIP, 3, 0), 0);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_READ, 4, BUF), 0);
	assert_memory_equal(buf, want + 15, 4);
	assert_int_equal(buf[4], 0xaa);

	/* Ports and DMA share the offset. */
	char ch;
	port_read(&c->h, &ch, 1);
	assert_int_equal(ch, want[19]);

	/* Reading past the end: the rest of the buffer is zero-filled. */
	memset(buf, 0xaa, 64);
	size_t left = len - 20;
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_READ, (uint32_t)left + 10, BUF), 0);
	assert_memory_equal(buf, want + 20, left);
	for (size_t i = left; i < left + 10; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[left + 10], 0xaa);
	/* At the end, everything reads as zero; skip does nothing. */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_SKIP, 100, 0), 0);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_READ, 8, BUF), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(hinb(&c->h, DATA), 0);

	/* Select alone (no read/skip/write) selects and completes. */
	assert_int_equal(dma(&c->h, (uint32_t)f->select << 16 | FW_CFG_DMA_CTL_SELECT, 99, BUF), 0);
	port_read(&c->h, &ch, 1);
	assert_int_equal(ch, want[0]);

	/* The same item through ports and DMA is identical. */
	char viaport[64];
	port_read_key(&c->h, f->select, viaport, len);
	memset(buf, 0, 64);
	assert_int_equal(dma(&c->h, sel_read(f->select), (uint32_t)len, BUF), 0);
	assert_memory_equal(buf, viaport, len);
}

static void test_dma_64bit_write_and_low_only(void **state)
{
	struct ctx *c = *state;
	uint8_t *buf = hram(&c->h, BUF, 8);
	uint8_t *d = hram(&c->h, DESC, 16);

	/* One 64-bit write of the big-endian address. */
	memset(buf, 0, 8);
	put_be32(d, sel_read(FW_CFG_SIGNATURE));
	put_be32(d + 4, 4);
	put_be32(d + 8, 0);
	put_be32(d + 12, (uint32_t)BUF);
	bus_write_val(c->h.m.pio, DMA_HI, __builtin_bswap64(DESC), 8);
	assert_int_equal(get_be32(d), 0);
	assert_memory_equal(buf, "QEMU", 4);

	/* SeaBIOS writes only the low half: the high half is 0 after each
	 * transfer, even one that failed. */
	houtl(&c->h, DMA_HI, __builtin_bswap32(1));
	houtl(&c->h, DMA_LO, __builtin_bswap32((uint32_t)DESC)); /* 4 GiB + DESC: no RAM */
	memset(buf, 0, 8);
	put_be32(d, sel_read(FW_CFG_ID));
	houtl(&c->h, DMA_LO, __builtin_bswap32((uint32_t)DESC));
	assert_int_equal(get_be32(d), 0);
	assert_int_equal(buf[0], FW_CFG_VERSION | FW_CFG_VERSION_DMA);

	/* Narrow writes to the DMA register do nothing. */
	put_be32(d, sel_read(FW_CFG_SIGNATURE));
	houtw(&c->h, DMA_LO + 2, 0x0020);
	houtb(&c->h, DMA_LO + 3, 0x20);
	assert_int_equal(get_be32(d), sel_read(FW_CFG_SIGNATURE));
}

static void test_dma_buffer_outside_ram(void **state)
{
	struct ctx *c = *state;
	uint8_t data[32];
	for (int i = 0; i < 32; i++)
		data[i] = (uint8_t)(i + 1);
	assert_int_equal(fw_cfg_add_file(c->fw, "opt/blob", data, sizeof(data)), 0);

	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST), 32, NOT_RAM),
			 FW_CFG_DMA_CTL_ERROR);
	/* Straddling the end of RAM: error, and not one byte written. */
	uint8_t *tail = hram(&c->h, RAM - 8, 8);
	memset(tail, 0xaa, 8);
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST), 32, RAM - 8),
			 FW_CFG_DMA_CTL_ERROR);
	for (int i = 0; i < 8; i++)
		assert_int_equal(tail[i], 0xaa);
	/* The zero fill past an item's end is checked the same way. */
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST), 32, BUF), 0);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_READ, 16, RAM - 8), FW_CFG_DMA_CTL_ERROR);
	for (int i = 0; i < 8; i++)
		assert_int_equal(tail[i], 0xaa);
	/* An address range that wraps around 2^64. */
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST), 32, UINT64_MAX - 3),
			 FW_CFG_DMA_CTL_ERROR);
	/* The device still works. */
	uint8_t *buf = hram(&c->h, BUF, 32);
	memset(buf, 0, 32);
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST), 32, BUF), 0);
	assert_memory_equal(buf, data, 32);
}

static void test_dma_descriptor_outside_ram(void **state)
{
	struct ctx *c = *state;
	/* Nothing reachable: nothing happens (and nothing crashes). */
	houtl(&c->h, DMA_HI, 0);
	houtl(&c->h, DMA_LO, __builtin_bswap32((uint32_t)NOT_RAM));
	houtl(&c->h, DMA_HI, 0xffffffff);
	houtl(&c->h, DMA_LO, 0xfcffffff); /* 0xfffffffffffffffc: wraps */

	/* Only the control word is RAM: it gets the error bit. */
	uint8_t *d = hram(&c->h, RAM - 8, 8);
	put_be32(d, sel_read(FW_CFG_SIGNATURE));
	put_be32(d + 4, 4);
	houtl(&c->h, DMA_HI, 0);
	houtl(&c->h, DMA_LO, __builtin_bswap32((uint32_t)(RAM - 8)));
	assert_int_equal(get_be32(d), FW_CFG_DMA_CTL_ERROR);

	/* A descriptor in RAM right after works. */
	uint8_t *buf = hram(&c->h, BUF, 4);
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_SIGNATURE), 4, BUF), 0);
	assert_memory_equal(buf, "QEMU", 4);
}

static void test_huge_length(void **state)
{
	struct ctx *c = *state;
	const char *text = "hello, firmware";
	size_t len = strlen(text);
	assert_int_equal(fw_cfg_add_file(c->fw, "opt/hello", text, len), 0);
	uint8_t *buf = hram(&c->h, BUF, 64);

	/* A read of 4 GiB - 1: the item's bytes arrive, the zero fill after
	 * them does not fit in RAM: error, and nothing past the item touched. */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST), UINT32_MAX, BUF),
			 FW_CFG_DMA_CTL_ERROR);
	assert_memory_equal(buf, text, len);
	assert_int_equal(buf[len], 0xaa);

	/* A huge skip stops at the end of the item: no error. */
	assert_int_equal(
	    dma(&c->h,
		(uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP,
		UINT32_MAX, 0),
	    0);
	assert_int_equal(hinb(&c->h, DATA), 0);

	/* A huge read that fits in RAM: item then zeros up to the length. */
	uint32_t big = 8 * MiB;
	uint8_t *b = hram(&c->h, BUF, big + 1);
	memset(b, 0xaa, big + 1);
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST), big, BUF), 0);
	assert_memory_equal(b, text, len);
	for (uint32_t i = (uint32_t)len; i < big; i += 4093)
		assert_int_equal(b[i], 0);
	assert_int_equal(b[big - 1], 0);
	assert_int_equal(b[big], 0xaa);
}

static void test_unknown_keys(void **state)
{
	struct ctx *c = *state;
	static const uint16_t keys[] = {
	    FW_CFG_KERNEL_ADDR, FW_CFG_FILE_FIRST, 0x1234, FW_CFG_ACPI_TABLES, 0x8100,
	    FW_CFG_ENTRY_MASK,	FW_CFG_INVALID};
	uint8_t *buf = hram(&c->h, BUF, 16);
	for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		uint8_t b[8];
		port_read_key(&c->h, keys[k], b, 8);
		for (int i = 0; i < 8; i++)
			assert_int_equal(b[i], 0);
		memset(buf, 0xaa, 16);
		assert_int_equal(dma(&c->h, sel_read(keys[k]), 8, BUF), 0);
		for (int i = 0; i < 8; i++)
			assert_int_equal(buf[i], 0);
		assert_int_equal(buf[8], 0xaa);
		assert_int_equal(
		    dma(&c->h,
			(uint32_t)keys[k] << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 8,
			0),
		    0);
		assert_int_equal(
		    dma(&c->h,
			(uint32_t)keys[k] << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 8,
			BUF),
		    FW_CFG_DMA_CTL_ERROR);
	}
	/* The write-channel bit is ignored in selectors, as in QEMU. */
	char sig[5] = {0};
	port_read_key(&c->h, FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE, sig, 4);
	assert_string_equal(sig, "QEMU");
}

static void test_data_port_writes_ignored(void **state)
{
	struct ctx *c = *state;
	port_select(&c->h, FW_CFG_SIGNATURE);
	assert_int_equal(hinb(&c->h, DATA), 'Q');
	houtb(&c->h, DATA, 'X');      /* ignored since QEMU 2.4 */
	houtb(&c->h, SEL, FW_CFG_ID); /* a byte write does not select */
	assert_int_equal(hinb(&c->h, DATA), 'E');
	port_select(&c->h, FW_CFG_SIGNATURE);
	char sig[5] = {0};
	port_read(&c->h, sig, 4);
	assert_string_equal(sig, "QEMU");
	/* Only byte reads give data. */
	port_select(&c->h, FW_CFG_SIGNATURE);
	assert_int_equal(hinw(&c->h, SEL), 0);
	assert_int_equal(hinb(&c->h, DATA), 'Q');
}

static void test_many_files(void **state)
{
	struct ctx *c = *state;
	enum { N = 150 };
	/* Added in a scrambled order. */
	for (unsigned i = 0; i < N; i++) {
		unsigned k = (i * 37) % N;
		char name[32], data[32];
		snprintf(name, sizeof(name), "opt/osio/file-%03u", k);
		int n = snprintf(data, sizeof(data), "file %u data", k);
		assert_int_equal(fw_cfg_add_file(c->fw, name, data, (size_t)n), 0);
	}
	static struct dirent d[N];
	assert_int_equal(read_dir(&c->h, d, N), N);
	uint8_t *buf = hram(&c->h, BUF, 32);
	for (unsigned i = 0; i < N; i++) {
		char name[32], want[32];
		snprintf(name, sizeof(name), "opt/osio/file-%03u", i);
		int n = snprintf(want, sizeof(want), "file %u data", i);
		assert_string_equal(d[i].name, name);
		assert_int_equal(d[i].select, FW_CFG_FILE_FIRST + i);
		assert_int_equal(d[i].size, n);
		memset(buf, 0, 32);
		assert_int_equal(dma(&c->h, sel_read(d[i].select), d[i].size, BUF), 0);
		assert_memory_equal(buf, want, (size_t)n);
	}
	/* Selectors past the last file are empty. */
	assert_int_equal(dma(&c->h, sel_read(FW_CFG_FILE_FIRST + N), 4, BUF), 0);
	assert_int_equal(buf[0] | buf[1] | buf[2] | buf[3], 0);
}

struct write_log {
	unsigned calls;
	uint32_t offset, len;
	uint8_t data[16];
};

static void on_write(void *opaque, uint32_t offset, const void *data, uint32_t len)
{
	struct write_log *w = opaque;
	w->calls++;
	w->offset = offset;
	w->len = len;
	memcpy(w->data, data, len < 16 ? len : 16);
}

static void test_writable_file(void **state)
{
	struct ctx *c = *state;
	struct write_log w = {0};
	uint8_t init[16] = {0};
	assert_int_equal(fw_cfg_add_file_writable(c->fw, "etc/vmcoreinfo", init, 16, on_write, &w),
			 0);
	assert_int_equal(fw_cfg_add_file(c->fw, "etc/readonly", "abcd", 4), 0);
	struct dirent d[4];
	assert_int_equal(read_dir(&c->h, d, 4), 2);
	const struct dirent *wf = find_file(d, 2, "etc/vmcoreinfo");
	const struct dirent *ro = find_file(d, 2, "etc/readonly");
	assert_non_null(wf);
	assert_non_null(ro);

	/* Linux's fw_cfg_write_blob: select + skip to the offset, then write. */
	uint8_t *src = hram(&c->h, BUF, 16);
	memcpy(src, "WXYZ", 4);
	assert_int_equal(
	    dma(&c->h, (uint32_t)wf->select << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 6,
		0),
	    0);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_WRITE, 4, BUF), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.offset, 6);
	assert_int_equal(w.len, 4);
	assert_memory_equal(w.data, "WXYZ", 4);
	uint8_t back[16];
	port_read_key(&c->h, wf->select, back, 16);
	assert_memory_equal(back + 6, "WXYZ", 4);
	assert_int_equal(back[5] | back[10], 0);

	/* A write that does not fit: error, no change, no callback. */
	assert_int_equal(
	    dma(&c->h, (uint32_t)wf->select << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 14,
		0),
	    0);
	assert_int_equal(dma(&c->h, FW_CFG_DMA_CTL_WRITE, 4, BUF), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(w.calls, 1);
	assert_int_equal(
	    dma(&c->h, (uint32_t)wf->select << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
		UINT32_MAX, BUF),
	    FW_CFG_DMA_CTL_ERROR);
	/* From outside RAM: error, no change. */
	assert_int_equal(
	    dma(&c->h, (uint32_t)wf->select << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4,
		NOT_RAM),
	    FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(w.calls, 1);
	port_read_key(&c->h, wf->select, back, 16);
	assert_memory_equal(back + 6, "WXYZ", 4);
	assert_int_equal(back[0] | back[14] | back[15], 0);

	/* Read-only files refuse writes. */
	assert_int_equal(
	    dma(&c->h, (uint32_t)ro->select << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4,
		BUF),
	    FW_CFG_DMA_CTL_ERROR);
	port_read_key(&c->h, ro->select, back, 4);
	assert_memory_equal(back, "abcd", 4);
}

static void test_reset(void **state)
{
	struct ctx *c = *state;
	assert_int_equal(fw_cfg_add_file(c->fw, "etc/keep", "kept", 4), 0);
	port_select(&c->h, FW_CFG_FILE_FIRST);
	assert_int_equal(hinb(&c->h, DATA), 'k');
	/* A half-written DMA address is forgotten too. */
	houtl(&c->h, DMA_HI, __builtin_bswap32(0x12345678));

	machine_reset_devices(&c->h.m);

	/* After reset the signature is selected from its start. */
	char sig[5] = {0};
	port_read(&c->h, sig, 4);
	assert_string_equal(sig, "QEMU");
	/* The content stays. */
	char b[5] = {0};
	port_read_key(&c->h, FW_CFG_FILE_FIRST, b, 4);
	assert_string_equal(b, "kept");
	uint8_t cnt[4];
	port_read_key(&c->h, FW_CFG_FILE_DIR, cnt, 4);
	assert_int_equal(get_be32(cnt), 1);
	/* A low-half-only DMA kick uses a high half of 0. */
	uint8_t *d = hram(&c->h, DESC, 16), *buf = hram(&c->h, BUF, 4);
	memset(buf, 0, 4);
	put_be32(d, sel_read(FW_CFG_FILE_FIRST));
	put_be32(d + 4, 4);
	put_be32(d + 8, 0);
	put_be32(d + 12, (uint32_t)BUF);
	houtl(&c->h, DMA_LO, __builtin_bswap32((uint32_t)DESC));
	assert_int_equal(get_be32(d), 0);
	assert_memory_equal(buf, "kept", 4);
}

static void test_bad_args(void **state)
{
	struct harness h;
	harness_init(&h, RAM);
	static const char *const bad[] = {"dma=maybe", "base=0x10000", "base=0xfffc", "base=x",
					  "port=0x510"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct devargs a = {0};
		assert_int_equal(devargs_parse(&a, bad[i]), 0);
		assert_int_equal(machine_add_device(&h.m, "fw_cfg", "fw", &a), -EINVAL);
	}
	/* Another base works, and a second instance on the same ports does not. */
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, "base=0x520,dma=yes"), 0);
	assert_int_equal(machine_add_device(&h.m, "fw_cfg", "fw", &a), 0);
	assert_int_equal(machine_add_device(&h.m, "fw_cfg", "fw2", &a), -EEXIST);
	houtw(&h, 0x520, FW_CFG_SIGNATURE);
	assert_int_equal(hinb(&h, 0x521), 'Q');
	assert_int_equal(hinb(&h, 0x524), 'Q');
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_signature_register, setup, teardown),
	    cmocka_unit_test(test_no_dma),
	    cmocka_unit_test(test_standard_keys),
	    cmocka_unit_test_setup_teardown(test_api_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_dma, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_64bit_write_and_low_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_buffer_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_descriptor_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_port_writes_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writable_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
