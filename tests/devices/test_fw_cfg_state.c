/* Saved state of the small legacy ports: fw_cfg's selector and read offset
 * (a guest half-way through an item reads the rest of it after a load) and
 * a half-written DMA address; the POST code port 0x80; the firmware log's
 * half-written line on pause; damaged states are refused. */
#include "devices/fw_cfg.h"
#include "hypervisor/platform.h"
#include "tests/devices/chipset_state.h"

#include <fcntl.h>
#include <unistd.h>

#define SEL    (PORT_FW_CFG + FW_CFG_PORT_SEL)
#define DATA   (PORT_FW_CFG + FW_CFG_PORT_DATA)
#define DMA_HI (PORT_FW_CFG + FW_CFG_PORT_DMA_HIGH)
#define DMA_LO (PORT_FW_CFG + FW_CFG_PORT_DMA_LOW)
#define DESC   0x2000u
#define BUF    0x3000u

static uint8_t item[100];

/* The machine both sides build: fw_cfg with one file of the worker's,
 * and the POST port. */
static void build(struct harness *h)
{
	harness_init(h, 1 << 20);
	harness_add(h, "fw_cfg", "fw_cfg", NULL);
	harness_add(h, "port80", "port80", NULL);
	for (unsigned i = 0; i < sizeof(item); i++)
		item[i] = (uint8_t)(i * 3 + 1);
	assert_int_equal(
	    fw_cfg_add_file(machine_device(&h->m, "fw_cfg"), "etc/osio-test", item, sizeof(item)),
	    0);
}

static uint16_t file_key(struct harness *h)
{
	/* The directory: a big-endian count, then 64-byte entries. */
	uint8_t dir[4 + 64];
	houtw(h, SEL, FW_CFG_FILE_DIR);
	for (unsigned i = 0; i < sizeof(dir); i++)
		dir[i] = hinb(h, DATA);
	assert_int_equal(dir[3], 1);
	assert_string_equal((const char *)dir + 4 + 8, "etc/osio-test");
	return (uint16_t)(dir[4 + 4] << 8 | dir[4 + 5]);
}

static void test_round_trip(void **state)
{
	struct harness *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	build(a);
	uint16_t key = file_key(a);
	houtw(a, SEL, key);
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(hinb(a, DATA), item[i]);
	houtb(a, 0x80, 0x5a);
	struct saved s;
	state_save(a, &s);
	harness_fini(a);

	state_build_load(b, build, &s);
	/* The rest of the item, then what lies past its end. */
	for (unsigned i = 40; i < sizeof(item); i++)
		assert_int_equal(hinb(b, DATA), item[i]);
	assert_int_equal(hinb(b, DATA), 0);
	assert_int_equal(hinb(b, 0x80), 0x5a);
	harness_fini(b);
	state_free(&s);
	free(a);
	free(b);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void test_dma_half_written(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	/* The high half (0: the descriptor is below 4 GiB) written before
	 * the save, the low half after the load: the transfer runs. */
	houtl(h, DMA_HI, 0);
	struct saved s;
	state_save(h, &s);
	harness_fini(h);
	state_build_load(h, build, &s);
	uint8_t desc[16];
	put_be32(desc,
		 (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
	put_be32(desc + 4, 4);
	put_be32(desc + 8, 0);
	put_be32(desc + 12, BUF);
	memcpy(hram(h, DESC, 16), desc, 16);
	houtl(h, DMA_LO, __builtin_bswap32(DESC));
	assert_memory_equal(hram(h, BUF, 4), "QEMU", 4);
	assert_int_equal(*(uint32_t *)hram(h, DESC, 4), 0);
	harness_fini(h);
	state_free(&s);
	free(h);
}

static void test_refused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	houtw(h, SEL, file_key(h));
	hinb(h, DATA);
	struct saved s, bad;
	state_save(h, &s);
	harness_fini(h);
	static const struct state_refusal cases[] = {
	    {"fw_cfg", "offset", 101, "past the end of item 0x0020"},
	    {"fw_cfg", "dma_addr", 0x1000, "not a half-written address"},
	    {"fw_cfg", "selector", 0x10000, "above its largest value"},
	    {"port80", "last", 0x100, "above its largest value"},
	};
	state_expect_refusals(h, build, &s, cases, sizeof(cases) / sizeof(cases[0]));
	/* An item that does not exist: nothing to be inside of. */
	state_edit_u64(&s, "fw_cfg", "selector", 0x3fff, &bad);
	build(h);
	state_load_fails(h, &bad, "past the end of item 0x3fff (0 bytes)");
	harness_fini(h);
	state_free(&bad);
	state_free(&s);
	free(h);
}

static void test_debugcon_pause(void **state)
{
	char path[] = "/tmp/osio-debugcon-XXXXXX", args[64], buf[16] = {0};
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct harness *h = calloc(1, sizeof(*h));
	harness_init(h, 1 << 20);
	snprintf(args, sizeof(args), "path=%s", path);
	harness_add(h, "debugcon", "debugcon", args);
	for (const char *p = "SeaBIOS"; *p; p++)
		houtb(h, 0x402, (uint8_t)*p);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 0); /* a line in the making */
	machine_pause_devices(&h->m, true);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 7);
	assert_string_equal(buf, "SeaBIOS");
	machine_pause_devices(&h->m, false);
	harness_fini(h);
	free(h);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_dma_half_written),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_debugcon_pause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
