/* The VGA as a PCI function and a register file: enumeration and BAR sizing
 * as SeaBIOS does them, the ROM BAR with the VGA BIOS, ROM errors, every
 * register group's masks and side effects, the MMIO BAR's aliases, reset,
 * and hostile register values and accesses that must never hurt the host. */
#include "tests/devices/vga_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_pci_identity(void **state)
{
	struct vt *t = vt_new(NULL);
	assert_int_equal(vt_cfg_read(t, PCI_VENDOR_ID, 4), 0x11111234);
	assert_int_equal(vt_cfg_read(t, PCI_REVISION_ID, 1), 2);
	assert_int_equal(vt_cfg_read(t, PCI_CLASS_PROG, 1), 0x00);
	assert_int_equal(vt_cfg_read(t, PCI_CLASS_DEVICE, 2), 0x0300);
	assert_int_equal(vt_cfg_read(t, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	assert_int_equal(vt_cfg_read(t, PCI_INTERRUPT_PIN, 1), 0);
	/* BAR sizing: all-ones, read the mask back. */
	vt_cfg_write(t, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(vt_cfg_read(t, PCI_BASE_ADDRESS_0, 4), 0xff000008); /* 16 MiB, prefetch */
	vt_cfg_write(t, PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
	assert_int_equal(vt_cfg_read(t, PCI_BASE_ADDRESS_0 + 8, 4), 0xfffff000); /* 4 KiB */
	vt_cfg_write(t, PCI_BASE_ADDRESS_0 + 4, 0xffffffff, 4);
	assert_int_equal(vt_cfg_read(t, PCI_BASE_ADDRESS_0 + 4, 4), 0);
	/* rom=none: no ROM BAR. */
	vt_cfg_write(t, PCI_ROM_ADDRESS, 0xfffff800, 4);
	assert_int_equal(vt_cfg_read(t, PCI_ROM_ADDRESS, 4), 0);
	/* Placed and decoded: the framebuffer is guest memory. */
	vt_map_bars(t);
	uint8_t *fb = vt_lfb(t, (16 << 20) - 4, 4);
	fb[0] = 0x42;
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x500, 2), 0xb0c5);
	/* Memory decoding off: the BARs go away. */
	vt_cfg_write(t, PCI_COMMAND, 0, 2);
	assert_null(gpa_to_hva(&t->h.m.mem, VGA_LFB, 4));
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x500, 2), 0xffff);
	vt_free(t);
}

static void test_rom_bar(void **state)
{
	int fd = open(VGA_DEFAULT_BIOS, O_RDONLY);
	if (fd < 0)
		skip(); /* Debian's seabios package is not installed */
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *file = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, file, (size_t)st.st_size), st.st_size);
	close(fd);

	struct vt *t = vt_new("");
	vt_cfg_write(t, PCI_ROM_ADDRESS, 0xfffff800, 4);
	uint32_t mask = vt_cfg_read(t, PCI_ROM_ADDRESS, 4) & ~1u;
	uint32_t size = ~mask + 1;
	assert_true(size >= (uint32_t)st.st_size && (size & (size - 1)) == 0);
	vt_cfg_write(t, PCI_ROM_ADDRESS, (uint32_t)VGA_ROM_BAR | 1, 4);
	vt_cfg_write(t, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	const uint8_t *rom = gpa_to_hva_ro(&t->h.m.mem, VGA_ROM_BAR, (uint64_t)st.st_size);
	assert_non_null(rom);
	assert_int_equal(rom[0], 0x55);
	assert_int_equal(rom[1], 0xaa);
	assert_memory_equal(rom, file, (size_t)st.st_size);
	/* Read-only to the guest. */
	assert_null(gpa_to_hva(&t->h.m.mem, VGA_ROM_BAR, 1));
	free(file);
	vt_free(t);
}

/* Creates a vga on a fresh machine with stderr captured into msg. */
static int create_capturing(struct harness *h, const char *args, char *msg, size_t size)
{
	char path[] = "/tmp/osio-vga-stderr-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, args), 0);
	int r = machine_add_device(&h->m, "vga", "vga", &a);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, msg, size - 1);
	msg[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return r;
}

static void test_rom_errors(void **state)
{
	struct harness h;
	char msg[1024];
	harness_init(&h, 16 << 20);
	/* No PCI bus. */
	assert_true(create_capturing(&h, "rom=none", msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "PCI bus"));
	harness_add(&h, "i440fx", "i440fx", NULL);
	harness_add(&h, "piix3", "piix3", NULL);
	/* A missing BIOS file: one line naming it and the way out. */
	assert_int_equal(create_capturing(&h, "rom=/nonexistent/vgabios.bin", msg, sizeof(msg)),
			 -ENOENT);
	assert_non_null(strstr(msg, "/nonexistent/vgabios.bin"));
	assert_non_null(strstr(msg, "rom="));
	assert_int_equal(strchr(msg, '\n') - msg + 1, (long)strlen(msg));
	/* A file that is not an option ROM. */
	char path[] = "/tmp/osio-vga-rom-XXXXXX";
	int fd = mkstemp(path);
	assert_int_equal(write(fd, "not a rom", 9), 9);
	close(fd);
	char args[64];
	snprintf(args, sizeof(args), "rom=%s", path);
	assert_int_equal(create_capturing(&h, args, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, path));
	unlink(path);
	/* A directory. */
	assert_int_equal(create_capturing(&h, "rom=/tmp", msg, sizeof(msg)), -EINVAL);
	/* Unknown keys and a bad slot. */
	assert_true(create_capturing(&h, "rom=none,colour=blue", msg, sizeof(msg)) < 0);
	assert_true(create_capturing(&h, "rom=none,slot=40", msg, sizeof(msg)) < 0);
	/* Nothing of the failed attempts is left behind: a good one works. */
	assert_int_equal(create_capturing(&h, "rom=none,slot=5", msg, sizeof(msg)), 0);
	assert_int_equal(pci_config_read(h.m.pci, PCI_DEVFN(5, 0), PCI_VENDOR_ID, 2), 0x1234);
	harness_fini(&h);
}

static void test_register_groups(void **state)
{
	struct vt *t = vt_new(NULL);
	/* Misc output: written at 0x3C2, read at 0x3CC. */
	houtb(&t->h, 0x3c2, 0x67);
	assert_int_equal(hinb(&t->h, 0x3cc), 0x67);
	/* Sequencer: 3-bit index, each register's own bits. */
	houtb(&t->h, 0x3c4, 0xfa);
	assert_int_equal(hinb(&t->h, 0x3c4), 0x02);
	houtb(&t->h, 0x3c5, 0xff);
	assert_int_equal(vt_seq_read(t, 2), 0x0f);
	vt_seq(t, 1, 0xff);
	assert_int_equal(vt_seq_read(t, 1), 0x3d);
	vt_seq(t, 4, 0xff);
	assert_int_equal(vt_seq_read(t, 4), 0x0e);
	vt_seq(t, 7, 0xff);
	assert_int_equal(vt_seq_read(t, 7), 0x00);
	/* Graphics controller: 4-bit index. */
	houtb(&t->h, 0x3ce, 0xf5);
	assert_int_equal(hinb(&t->h, 0x3ce), 0x05);
	houtb(&t->h, 0x3cf, 0xff);
	assert_int_equal(vt_gr_read(t, 5), 0x7b);
	vt_gr(t, 8, 0xa5);
	assert_int_equal(vt_gr_read(t, 8), 0xa5);
	vt_gr(t, 0x0c, 0xff);
	assert_int_equal(vt_gr_read(t, 0x0c), 0x00);
	/* Attribute controller: the flip-flop, reset by input status 1. */
	hinb(&t->h, 0x3da);
	houtb(&t->h, 0x3c0, 0x25); /* index 5, video on */
	houtb(&t->h, 0x3c0, 0xff); /* data */
	assert_int_equal(hinb(&t->h, 0x3c0), 0x25);
	assert_int_equal(hinb(&t->h, 0x3c1), 0x3f);
	houtb(&t->h, 0x3c0, 0x33); /* the flip-flop is back at index */
	assert_int_equal(hinb(&t->h, 0x3c0), 0x33);
	houtb(&t->h, 0x3c0, 0xff); /* index 0x13: panning, 4 bits */
	assert_int_equal(vt_attr_read(t, 0x13), 0x0f);
	hinb(&t->h, 0x3da);
	houtb(&t->h, 0x3c0, 0x1f); /* no register 0x1f */
	houtb(&t->h, 0x3c0, 0xff);
	assert_int_equal(hinb(&t->h, 0x3c1), 0);
	/* Input status 1: retrace and display-enable change every read. */
	uint8_t s1 = hinb(&t->h, 0x3da), s2 = hinb(&t->h, 0x3da);
	assert_int_equal((s1 ^ s2) & 0x09, 0x09);
	/* CRTC: the protect bit guards CR0-CR7 but not line compare bit 8. */
	vt_crtc(t, 0x11, 0x00);
	vt_crtc(t, 0x01, 0x4f);
	vt_crtc(t, 0x07, 0x00);
	vt_crtc(t, 0x11, 0x80);
	vt_crtc(t, 0x01, 0x27);
	vt_crtc(t, 0x07, 0xff);
	assert_int_equal(vt_crtc_read(t, 0x01), 0x4f);
	assert_int_equal(vt_crtc_read(t, 0x07), 0x10);
	vt_crtc(t, 0x12, 0x8f);
	assert_int_equal(vt_crtc_read(t, 0x12), 0x8f);
	/* Colour mode: 0x3Bx does not answer; monochrome: 0x3Dx does not. */
	assert_int_equal(hinb(&t->h, 0x3b5), 0xff);
	houtb(&t->h, 0x3c2, 0x66);
	assert_int_equal(hinb(&t->h, 0x3d5), 0xff);
	houtb(&t->h, 0x3b4, 0x12);
	assert_int_equal(hinb(&t->h, 0x3b5), 0x8f);
	houtb(&t->h, 0x3d4, 0x13); /* ignored in monochrome mode */
	assert_int_equal(hinb(&t->h, 0x3b4), 0x12);
	/* Feature control: written at 0x3BA (mono) / 0x3DA, read at 0x3CA. */
	houtb(&t->h, 0x3ba, 0x03);
	assert_int_equal(hinb(&t->h, 0x3ca), 0x03);
	houtb(&t->h, 0x3c2, 0x67);
	/* DAC: auto-incrementing triplets, separate read and write index. */
	houtb(&t->h, 0x3c8, 0xfe);
	for (int i = 0; i < 6; i++)
		houtb(&t->h, 0x3c9, (uint8_t)(0x10 + i));
	assert_int_equal(hinb(&t->h, 0x3c8), 0x00); /* wrapped past 0xff */
	assert_int_equal(hinb(&t->h, 0x3c7), 0x00); /* state: writing */
	houtb(&t->h, 0x3c7, 0xff);
	assert_int_equal(hinb(&t->h, 0x3c7), 0x03); /* state: reading */
	for (int i = 0; i < 3; i++)
		assert_int_equal(hinb(&t->h, 0x3c9), 0x13 + i);
	/* PEL mask. */
	houtb(&t->h, 0x3c6, 0x0f);
	assert_int_equal(hinb(&t->h, 0x3c6), 0x0f);
	vt_free(t);
}

static void test_mmio_bar(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	/* VGA ports 0x3C0-0x3DF at 0x400, 16-bit writes as index + data. */
	hmmio_write(&t->h, VGA_MMIO + 0x404, 0x0f02, 2);
	assert_int_equal(vt_seq_read(t, 2), 0x0f);
	houtw(&t->h, 0x3c4, 0x0302);
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x405, 1), 0x03);
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x40c, 1), 0xc3); /* misc */
	/* Dispi registers at 0x500 + 2 * index. */
	hmmio_write(&t->h, VGA_MMIO + 0x502, 1024, 2);
	assert_int_equal(vt_dispi_read(t, 1), 1024);
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x514, 2), 256);
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x516, 2), 0);
	/* QEMU's extended registers: size, then byte order. */
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x600, 4), 8);
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x604, 4), 0x1e1e1e1e);
	/* No EDID: the first bytes are not an EDID header. */
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO, 8), 0);
	vt_free(t);
}

static void test_reset(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	vt_set_mode(t, &vt_mode13);
	vt_dispi(t, 3, 32);
	vt_dispi(t, 1, 800);
	vt_dispi(t, 2, 600);
	vt_dispi(t, 4, 0x41);
	vt_refresh(t);
	vt_assert_size(t, 800, 600);
	machine_reset_devices(&t->h.m);
	assert_int_equal(vt_dispi_read(t, 4), 0);
	assert_int_equal(vt_dispi_read(t, 0), 0xb0c5);
	assert_int_equal(vt_cfg_read(t, PCI_COMMAND, 2), 0);
	assert_int_equal(vt_cfg_read(t, PCI_BASE_ADDRESS_0, 4), 0x8);
	assert_null(gpa_to_hva(&t->h.m.mem, VGA_LFB, 4));
	assert_int_equal(hinb(&t->h, 0x3cc), 0);
	houtb(&t->h, 0x3b4, 0x09);
	assert_int_equal(hinb(&t->h, 0x3b5), 0);
	/* Video off after reset: black, until the BIOS sets a mode. */
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0, 0), 0);
	vt_free(t);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void check_surface_sane(struct vt *t)
{
	unsigned w, h;
	vt_size(t, &w, &h, NULL);
	assert_true(w >= 1 && w <= 2560 && h >= 1 && h <= 1600);
}

static void test_hostile_values(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	/* bpp 0 and huge sizes are taken to the nearest mode that works. */
	vt_dispi(t, 3, 0);
	vt_dispi(t, 1, 0xffff);
	vt_dispi(t, 2, 0xffff);
	vt_dispi(t, 4, 0x41);
	assert_int_equal(vt_dispi_read(t, 3), 8);
	assert_int_equal(vt_dispi_read(t, 1), 2560);
	assert_int_equal(vt_dispi_read(t, 2), 1600);
	vt_dispi(t, 6, 0xffff);
	vt_dispi(t, 8, 0xffff);
	vt_dispi(t, 9, 0xffff);
	vt_refresh(t);
	check_surface_sane(t);
	vt_dispi(t, 3, 32);
	vt_dispi(t, 9, 0xffff); /* past the end of VRAM: back to 0 */
	assert_int_equal(vt_dispi_read(t, 9), 0);
	vt_refresh(t);
	check_surface_sane(t);
	vt_dispi(t, 3, 4); /* planar VBE */
	vt_dispi(t, 5, 0xffff);
	hmmio_write(&t->h, WIN + 0xffff, 0xff, 1);
	vt_refresh(t);
	check_surface_sane(t);
	vt_dispi(t, 0xffff, 0x1234);
	assert_int_equal(vt_dispi_read(t, 0xffff), 0);
	vt_dispi(t, 4, 0);

	/* CRTC at its limits: 256 characters of 18 dots, 1024 lines, the
	 * last start address, a 31-line character, 510 bytes a line. */
	vt_set_mode(t, &vt_mode3);
	vt_crtc(t, 0x11, 0x00);
	vt_crtc(t, 0x01, 0xff);
	vt_crtc(t, 0x12, 0xff);
	vt_crtc(t, 0x07, 0xff);
	vt_crtc(t, 0x09, 0xff);
	vt_crtc(t, 0x0c, 0xff);
	vt_crtc(t, 0x0d, 0xff);
	vt_crtc(t, 0x13, 0xff);
	vt_crtc(t, 0x0e, 0xff);
	vt_crtc(t, 0x0f, 0xff);
	vt_crtc(t, 0x0b, 0xff);
	vt_crtc(t, 0x08, 0xff);
	vt_seq(t, 0x01, 0x08);
	vt_seq(t, 0x03, 0x3f);
	vt_refresh(t);
	check_surface_sane(t);
	char buf[64];
	int r = vga_text_snapshot(t->vga, buf, sizeof(buf), NULL, NULL);
	assert_true(r == 0 || r == -ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	vt_crtc(t, 0x14, 0x60); /* doubleword, count by 4 */
	vt_crtc(t, 0x17, 0x00);
	vt_gr(t, 0x06, 0x01);
	for (uint8_t gr5 = 0; gr5 < 0x80; gr5 += 0x20) {
		vt_gr(t, 0x05, gr5);
		vt_attr(t, 0x13, 0x0f);
		vt_attr(t, 0x10, 0xff);
		vt_refresh(t);
		check_surface_sane(t);
	}
	vt_free(t);
}

static void test_fuzz(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	struct display_consumer *c = display_consumer_new(t->s);
	struct display_rect r[8];
	for (int i = 0; i < 200000; i++) {
		uint32_t x = rnd(), v = rnd();
		unsigned size = 1u << (v >> 30);
		switch (x % 6) {
		case 0:
		case 1:
			bus_write_val(t->h.m.pio, 0x3b0 + (x >> 8) % 0x30, v & 0xffff,
				      size > 2 ? 2 : size);
			break;
		case 2:
			bus_write_val(t->h.m.pio, 0x1ce + (x >> 8) % 4, v & 0xffff, 2);
			break;
		case 3:
			hmmio_write(&t->h, WIN + (x >> 8) % 0x20000, v, size);
			hmmio_read(&t->h, WIN + (x >> 12) % 0x20000, size);
			break;
		case 4:
			hmmio_write(&t->h, VGA_MMIO + (x >> 8) % 0x1000, v, size);
			bus_read_val(t->h.m.pio, 0x3b0 + (x >> 8) % 0x30, 1);
			break;
		default:
			if (i % 200 == 5) {
				vt_refresh(t);
				check_surface_sane(t);
				display_consumer_take(c, r, 8, NULL);
				char buf[8192];
				vga_text_snapshot(t->vga, buf, sizeof(buf), NULL, NULL);
			}
			break;
		}
	}
	display_consumer_free(c);
	vt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pci_identity),   cmocka_unit_test(test_rom_bar),
	    cmocka_unit_test(test_rom_errors),	   cmocka_unit_test(test_register_groups),
	    cmocka_unit_test(test_mmio_bar),	   cmocka_unit_test(test_reset),
	    cmocka_unit_test(test_hostile_values), cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
