/* virtio-blk driven the way Linux's virtio_blk and virtio_pci drive it: the modern and the
 * legacy interface, several queues, direct and indirect chains, every request type, a read-only
 * disk, out-of-range and malformed requests, reset with requests in flight, bad arguments. Host
 * errors are in test_virtio_blk_errors.c. */
#include "tests/devices/virtio_blk_test.h"

/* --- tests ----------------------------------------------------------------------------------- */

static void test_identity(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));

	start(d, NULL, "queues=2");
	assert_int_equal(d->v.device, 0x1001); /* transitional virtio-blk */
	assert_int_equal(d->v.subsys, 2);
	assert_true(d->v.has_io);
	assert_int_equal(vdrv_cfg_read(&d->v, PCI_CLASS_DEVICE, 2), 0x0100);
	uint64_t f = setup(d, ALL, 2);
	assert_int_equal(f & ALL, ALL & ~(1ull << F_RO));
	assert_int_equal(devcfg(d, 0, 8), SECTORS);
	assert_int_equal(devcfg(d, 12, 4), QSIZE - 2); /* seg_max */
	assert_int_equal(devcfg(d, 20, 4), 512);       /* blk_size */
	assert_int_equal(devcfg(d, 24, 1), 0);	       /* physical_block_exp */
	assert_int_equal(devcfg(d, 34, 2), 2);	       /* num_queues */
	assert_true(devcfg(d, 36, 4) >= 65536);	       /* max_discard_sectors */
	assert_int_equal(devcfg(d, 40, 4), 1);	       /* max_discard_seg */
	assert_int_equal(devcfg(d, 44, 4), 1);	       /* discard_sector_alignment */
	assert_true(devcfg(d, 48, 4) >= 65536);	       /* max_write_zeroes_sectors */
	assert_int_equal(devcfg(d, 52, 4), 1);	       /* max_write_zeroes_seg */
	stop(d);
	/* Modern only; one queue: no MQ. */
	memset(d, 0, sizeof(*d));
	start(d, NULL, "legacy=off,queues=1");
	assert_int_equal(d->v.device, 0x1042);
	assert_false(d->v.has_io);
	f = setup(d, ALL, 1);
	assert_false(f & 1ull << F_MQ);
	assert_int_equal(devcfg(d, 34, 2), 1);
	stop(d);
	free(d);
}

static void test_read_write(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(65536);
	uint32_t w;

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	/* A write in one piece, then the file holds it. */
	fill(d, 0, 65536, 1);
	assert_int_equal(request(d, 0, 0, T_OUT, 8, 65536, 1, false, &w), S_OK);
	assert_int_equal(w, 1);
	file_read(d, buf, 65536, 8 * 512);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 65536), 65536);
	/* Read back through an indirect table of 16 pieces and through 4 direct ones. */
	memset(hram(&d->h, DATA_GPA(1), 65536), 0, 65536);
	assert_int_equal(request(d, 0, 1, T_IN, 8, 65536, 16, true, &w), S_OK);
	assert_int_equal(w, 65536 + 1);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(1), 65536), 65536);
	memset(hram(&d->h, DATA_GPA(2), 65536), 0, 65536);
	assert_int_equal(request(d, 0, 2, T_IN, 8, 65536, 4, false, NULL), S_OK);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(2), 65536), 65536);
	/* An indirect write of 8 pieces lands in order. */
	fill(d, 3, 32768, 9);
	assert_int_equal(request(d, 0, 3, T_OUT, 1000, 32768, 8, true, NULL), S_OK);
	file_read(d, buf, 32768, 1000 * 512);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(3), 32768), 32768);
	/* The last sector is in range; a zero-length read is fine. */
	assert_int_equal(request(d, 0, 4, T_IN, SECTORS - 1, 512, 1, false, NULL), S_OK);
	assert_int_equal(request(d, 0, 4, T_IN, 0, 0, 0, false, NULL), S_OK);
	assert_int_equal(status(d) & 0x40, 0);
	stop(d);
	free(buf);
	free(d);
}

/* Twelve requests on four queues in flight at once, some indirect. */
static void test_queues_in_flight(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(32768);
	int heads[12];

	start(d, NULL, "queues=4");
	setup(d, ALL, 4);
	for (unsigned k = 0; k < 12; k++) {
		fill(d, k, 32768, k + 100);
		heads[k] = post(d, k % 4, k, T_OUT, k * 64, 32768, k % 3 + 1, k % 4 == 3);
	}
	for (unsigned q = 0; q < 4; q++)
		kick(d, q);
	for (unsigned q = 0; q < 4; q++) {
		assert_true(wait_used(d, q, 3));
		for (unsigned i = 0; i < 3; i++) {
			uint16_t id;
			uint32_t len;

			take_used(d, q, &id, &len);
			/* One of this queue's requests: k = q, q + 4, q + 8. */
			assert_true(id == heads[q] || id == heads[q + 4] || id == heads[q + 8]);
			assert_int_equal(len, 1);
		}
		/* Each queue interrupts through its own MSI-X vector. */
		assert_true(vdrv_msi_count(&d->v, q) >= 1);
	}
	for (unsigned k = 0; k < 12; k++) {
		assert_int_equal(status_of(d, k), S_OK);
		file_read(d, buf, 32768, k * 64 * 512);
		assert_memory_equal(buf, hram(&d->h, DATA_GPA(k), 32768), 32768);
	}
	stop(d);
	free(buf);
	free(d);
}

static void test_flush_get_id(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *id;
	uint32_t w;

	start(d, NULL, "serial=ABCDEFGHIJKLMNOPQRST");
	setup(d, ALL, 1);
	assert_int_equal(request(d, 0, 0, T_FLUSH, 0, 0, 0, false, &w), S_OK);
	assert_int_equal(w, 1);
	/* 20 bytes, no terminating NUL (5.2.6). */
	id = hram(&d->h, DATA_GPA(1), 32);
	memset(id, 0xaa, 32);
	assert_int_equal(request(d, 0, 1, T_GET_ID, 0, 20, 1, false, &w), S_OK);
	assert_memory_equal(id, "ABCDEFGHIJKLMNOPQRST", 20);
	assert_int_equal(id[20], 0xaa);
	assert_int_equal(w, 21);
	/* A shorter buffer gets what fits. */
	memset(id, 0xaa, 32);
	assert_int_equal(request(d, 0, 1, T_GET_ID, 0, 8, 1, false, &w), S_OK);
	assert_memory_equal(id, "ABCDEFGH", 8);
	assert_int_equal(id[8], 0xaa);
	assert_int_equal(w, 9);
	stop(d);
	/* No serial: zeroes. */
	memset(d, 0, sizeof(*d));
	start(d, NULL, NULL);
	setup(d, ALL, 1);
	id = hram(&d->h, DATA_GPA(1), 32);
	memset(id, 0xaa, 32);
	assert_int_equal(request(d, 0, 1, T_GET_ID, 0, 20, 1, false, NULL), S_OK);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(id[i], 0);
	stop(d);
	free(d);
}

static void test_discard_write_zeroes(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(65536), zero[512] = {0};

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	fill(d, 0, 65536, 3);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 65536, 1, false, NULL), S_OK);
	/* Sectors 16..31 and 64..79 (UNMAP) read back as zeroes; the rest keeps its data. */
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 16, 16, 0, 1), S_OK);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 64, 16, 1, 1), S_OK);
	file_read(d, buf, 65536, 0);
	for (unsigned s = 0; s < 128; s++) {
		bool z = (s >= 16 && s < 32) || (s >= 64 && s < 80);

		assert_memory_equal(buf + s * 512,
				    z ? zero : (uint8_t *)hram(&d->h, DATA_GPA(0) + s * 512, 512),
				    512);
	}
	assert_int_equal(dwz(d, 1, T_DISCARD, 96, 8, 0, 1), S_OK);
	/* Flags discard has none of, unknown write-zeroes flags, several segments: unsupported. */
	assert_int_equal(dwz(d, 1, T_DISCARD, 96, 8, 1, 1), S_UNSUPP);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 96, 8, 2, 1), S_UNSUPP);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 96, 8, 0, 2), S_UNSUPP);
	/* Past the end, or more than the maximum: an I/O error; nothing changed. */
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, SECTORS - 4, 8, 0, 1), S_IOERR);
	assert_int_equal(dwz(d, 1, T_DISCARD, 0, 0xffffffffu, 0, 1), S_IOERR);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, UINT64_MAX - 2, 8, 0, 1), S_IOERR);
	file_read(d, buf, 512, 0);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 512), 512);
	stop(d);
	/* Not negotiated: unsupported. */
	memset(d, 0, sizeof(*d));
	start(d, NULL, NULL);
	setup(d, ALL & ~(1ull << F_DISCARD | 1ull << F_WRITE_ZEROES), 1);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 0, 8, 0, 1), S_UNSUPP);
	assert_int_equal(dwz(d, 1, T_DISCARD, 0, 8, 0, 1), S_UNSUPP);
	stop(d);
	free(buf);
	free(d);
}

static void test_readonly(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t buf[4096], zero[4096] = {0};

	start(d, NULL, "readonly=on");
	uint64_t f = setup(d, ALL, 1);
	assert_true(f & 1ull << F_RO);
	assert_false(f & (1ull << F_DISCARD | 1ull << F_WRITE_ZEROES));
	fill(d, 0, 4096, 5);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 4096, 1, false, NULL), S_IOERR);
	file_read(d, buf, 4096, 0);
	assert_memory_equal(buf, zero, 4096);
	assert_int_equal(request(d, 0, 1, T_IN, 0, 4096, 2, true, NULL), S_OK);
	assert_int_equal(request(d, 0, 1, T_FLUSH, 0, 0, 0, false, NULL), S_OK);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 0, 8, 0, 1), S_UNSUPP);
	stop(d);
	free(d);
}

static void test_out_of_range(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct stat st;

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	assert_int_equal(request(d, 0, 0, T_IN, SECTORS, 512, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_IN, SECTORS - 1, 1024, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_IN, UINT64_MAX - 1, 1024, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_OUT, SECTORS - 1, 1024, 2, false, NULL), S_IOERR);
	/* Not whole sectors. */
	assert_int_equal(request(d, 0, 0, T_IN, 0, 1000, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 600, 1, false, NULL), S_IOERR);
	assert_int_equal(stat(d->path, &st), 0);
	assert_int_equal(st.st_size, DISK_SIZE);
	assert_int_equal(status(d) & 0x40, 0);
	stop(d);
	free(d);
}

/* A chain the type cannot be read from or the status not written to breaks the device (it needs a
 * reset); an unknown type is only unsupported. */
static void test_bad_chains(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct vdrv_buf s[3];

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	assert_int_equal(request(d, 0, 0, 2, 0, 512, 1, false, NULL), S_UNSUPP);  /* SCSI */
	assert_int_equal(request(d, 0, 0, 14, 0, 512, 1, false, NULL), S_UNSUPP); /* secure erase */
	assert_int_equal(request(d, 0, 0, 0x12345678, 0, 0, 0, false, NULL), S_UNSUPP);
	/* A header of 8 bytes. */
	put_hdr(d, 1, T_IN, 0);
	s[0] = (struct vdrv_buf){HDR_GPA(1), 8, false};
	s[1] = (struct vdrv_buf){HDR_GPA(1) + 32, 1, true};
	add(d, 0, s, 2, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	assert_int_equal(used_idx(d, 0), d->q[0].last_used);
	/* After a reset it works again. */
	setup(d, ALL, 1);
	assert_false(status(d) & 0x40);
	assert_int_equal(request(d, 0, 0, T_IN, 0, 512, 1, false, NULL), S_OK);
	/* No writable byte for the status. */
	put_hdr(d, 1, T_IN, 0);
	s[0] = (struct vdrv_buf){HDR_GPA(1), 16, false};
	s[1] = (struct vdrv_buf){DATA_GPA(1), 512, false};
	add(d, 0, s, 2, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	setup(d, ALL, 1);
	/* A writable buffer before a readable one is malformed too. */
	s[0] = (struct vdrv_buf){HDR_GPA(1) + 32, 1, true};
	s[1] = (struct vdrv_buf){HDR_GPA(1), 16, false};
	add(d, 0, s, 2, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	/* Data outside guest RAM: broken as well, nothing written. */
	setup(d, ALL, 1);
	put_hdr(d, 1, T_IN, 0);
	s[0] = (struct vdrv_buf){HDR_GPA(1), 16, false};
	s[1] = (struct vdrv_buf){0xfffff000u, 512, true};
	s[2] = (struct vdrv_buf){HDR_GPA(1) + 32, 1, true};
	add(d, 0, s, 3, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	assert_int_equal(status_of(d, 1), NO_STATUS);
	stop(d);
	free(d);
}

/* The legacy interface as a pre-1.0 driver uses it: I/O BAR 0, 32 feature bits, queue PFNs,
 * INTx with the ISR. */
static void test_legacy(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(8192);

	start(d, NULL, "vectors=0,serial=LEGACY");
	d->legacy = true;
	uint64_t f = setup(d, ALL, 1);
	assert_int_equal(f >> 32, 0);
	assert_true(f & 1ull << F_FLUSH);
	/* Without MSI-X the configuration follows the 20-byte header. */
	assert_int_equal(vdrv_leg_read(&d->v, 0x14, 4), SECTORS);
	(void)vdrv_leg_read(&d->v, VDRV_LEG_ISR, 1); /* cleared */
	fill(d, 0, 8192, 11);
	assert_int_equal(request(d, 0, 0, T_OUT, 40, 8192, 2, true, NULL), S_OK);
	/* A used buffer: ISR bit 0, cleared by the read. */
	assert_int_equal(vdrv_leg_read(&d->v, VDRV_LEG_ISR, 1) & 1, 1);
	assert_int_equal(vdrv_leg_read(&d->v, VDRV_LEG_ISR, 1), 0);
	file_read(d, buf, 8192, 40 * 512);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 8192), 8192);
	assert_int_equal(request(d, 0, 1, T_IN, 40, 8192, 1, false, NULL), S_OK);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(1), 8192), 8192);
	assert_int_equal(request(d, 0, 2, T_GET_ID, 0, 20, 1, false, NULL), S_OK);
	assert_memory_equal(hram(&d->h, DATA_GPA(2), 7), "LEGACY", 7);
	stop(d);
	free(buf);
	free(d);
}

/* A VHDX with 4 KiB logical sectors: blk_size 4096, and requests that are not whole, aligned
 * 4 KiB blocks fail. */
static void test_4k_sectors(void **state)
{
	struct block_create_opts opts = {.size = DISK_SIZE, .logical_sector = 4096};
	struct tdev *d = calloc(1, sizeof(*d));
	char dir[] = "/tmp/vblk-4k-XXXXXX", err[256];

	assert_non_null(mkdtemp(dir));
	snprintf(live_dir, sizeof(live_dir), "%s", dir);
	snprintf(d->path, sizeof(d->path), "%s/disk.vhdx", dir);
	assert_int_equal(block_create(d->path, "vhdx", &opts, err, sizeof(err)), 0);
	attach(d, NULL);
	setup(d, ALL, 1);
	assert_int_equal(devcfg(d, 0, 8), SECTORS); /* still 512-byte sectors */
	assert_int_equal(devcfg(d, 20, 4), 4096);
	assert_int_equal(devcfg(d, 24, 1), 0); /* physical = logical */
	assert_int_equal(devcfg(d, 44, 4), 8); /* discard alignment, sectors */
	fill(d, 0, 8192, 21);
	assert_int_equal(request(d, 0, 0, T_OUT, 16, 8192, 2, true, NULL), S_OK);
	memset(hram(&d->h, DATA_GPA(1), 8192), 0, 8192);
	assert_int_equal(request(d, 0, 1, T_IN, 16, 8192, 1, false, NULL), S_OK);
	assert_memory_equal(hram(&d->h, DATA_GPA(1), 8192), hram(&d->h, DATA_GPA(0), 8192), 8192);
	assert_int_equal(request(d, 0, 1, T_IN, 0, 512, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 1, T_IN, 1, 4096, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 1, T_OUT, 12, 4096, 1, false, NULL), S_IOERR);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 3, 8, 0, 1), S_IOERR);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 16, 8, 0, 1), S_OK);
	assert_int_equal(request(d, 0, 1, T_IN, 16, 4096, 1, false, NULL), S_OK);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(((uint8_t *)hram(&d->h, DATA_GPA(1), 4096))[i], 0);
	stop(d);
	remove_dir();
	free(d);
}

/* A reset with requests in flight: they finish before the reset returns and never show up in
 * the new rings. */
static void test_reset_in_flight(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));

	start(d, NULL, "queues=2");
	setup(d, ALL, 2);
	for (unsigned k = 0; k < 10; k++) {
		fill(d, k, 65536, k);
		post(d, k % 2, k, T_OUT, k * 128, 65536, 1, false);
	}
	kick(d, 0);
	kick(d, 1);
	vdrv_set_status(&d->v, 0);
	assert_int_equal(status(d), 0);
	setup(d, ALL, 2);
	harness_run(&d->h, 50);
	assert_int_equal(used_idx(d, 0), 0);
	assert_int_equal(used_idx(d, 1), 0);
	assert_int_equal(request(d, 1, 0, T_IN, 0, 4096, 1, false, NULL), S_OK);
	stop(d);
	free(d);
}

/* Bad devargs are refused with a message, and a missing image too. */
static void test_bad_args(void **state)
{
	static const char *const bad[] = {
	    "file=/nonexistent/osio-vblk.img",
	    "readonly=maybe",
	    "serial=123456789012345678901",
	    "queues=0",
	    "queues=65",
	    "on_error=stop",
	    "colour=blue",
	};
	struct harness *h = calloc(1, sizeof(*h));
	char path[] = "/tmp/vblk-args-XXXXXX", args[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	harness_init(h, 16 << 20);
	harness_add(h, "i440fx", "i440fx", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct devargs a = {0};

		if (strncmp(bad[i], "file=", 5) == 0)
			snprintf(args, sizeof(args), "%s", bad[i]);
		else
			snprintf(args, sizeof(args), "file=%s,%s", path, bad[i]);
		assert_int_equal(devargs_parse(&a, args), 0);
		assert_true(machine_add_device(&h->m, "virtio-blk", "bad", &a) < 0);
	}
	harness_fini(h);
	unlink(path);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_identity, teardown),
	    cmocka_unit_test_teardown(test_read_write, teardown),
	    cmocka_unit_test_teardown(test_queues_in_flight, teardown),
	    cmocka_unit_test_teardown(test_flush_get_id, teardown),
	    cmocka_unit_test_teardown(test_discard_write_zeroes, teardown),
	    cmocka_unit_test_teardown(test_readonly, teardown),
	    cmocka_unit_test_teardown(test_out_of_range, teardown),
	    cmocka_unit_test_teardown(test_bad_chains, teardown),
	    cmocka_unit_test_teardown(test_legacy, teardown),
	    cmocka_unit_test_teardown(test_4k_sectors, teardown),
	    cmocka_unit_test_teardown(test_reset_in_flight, teardown),
	    cmocka_unit_test_teardown(test_bad_args, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
