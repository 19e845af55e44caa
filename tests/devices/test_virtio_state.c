/* Saved state of the virtio devices: a virtio-blk with requests in flight and published is
 * paused, saved, and loaded into a new machine with the same RAM, where the driver goes on with
 * no reset and every request completes exactly once; held requests (on_error=pause) survive;
 * virtio-rng's pause holds back its buffers; damaged sections are refused with a sentence.
 * virtio-net is in test_virtio_net_state.c. */
#include "tests/devices/state_move.h"
#include "tests/devices/virtio_blk_test.h"

#define RAM   (64u << 20)
#define F_EVT (1ull << VIRTIO_F_EVENT_IDX)

/* A machine like attach()'s for d->path, with nothing run on it yet: the target of a load. */
static void attach_bare(struct tdev *d, const char *args, const uint8_t *ram)
{
	char devargs[512];

	harness_init(&d->h, RAM);
	st_put_ram(&d->h, ram, RAM);
	harness_add(&d->h, "i440fx", "i440fx", NULL);
	harness_add(&d->h, "piix3", "piix3", NULL);
	snprintf(devargs, sizeof(devargs), "file=%s,slot=%d%s%s", d->path, SLOT, args ? "," : "",
		 args ? args : "");
	harness_add(&d->h, "virtio-blk", "vd0", devargs);
}

/* Saves a's machine, destroys it (the image stays), and builds b from the same settings and
 * RAM. The driver's view (its vdrv and queues) moves to b. Returns the saved state. */
static struct vmstate_out move(struct tdev *a, struct tdev *b, const char *args)
{
	struct vmstate_out out;

	st_save(&a->h, &out);
	uint8_t *ram = st_ram(&a->h, RAM);
	harness_fini(&a->h);
	memcpy(b->path, a->path, sizeof(b->path));
	b->legacy = a->legacy;
	b->nq = a->nq;
	memcpy(b->q, a->q, sizeof(b->q));
	b->v = a->v;
	b->v.h = &b->h;
	attach_bare(b, args, ram);
	free(ram);
	return out;
}

/* Loads a saved state into b and lets it run; fails the test on a refusal. */
static void load_and_go(struct tdev *b, struct vmstate_out *out)
{
	char err[256] = "";

	if (st_load(&b->h, out->buf, out->len, err, sizeof(err)) < 0)
		fail_msg("load refused: %s", err);
	msi_set_backend(&b->h.m, &vdrv_msi_ops, &b->v);
	machine_pause_devices(&b->h.m, false);
}

/* Takes every used element of queue qi, marking its head in seen (each at most once). */
static unsigned take_all(struct tdev *d, unsigned qi, uint8_t *seen)
{
	uint16_t id;
	uint32_t len;
	unsigned n = 0;

	while (vdrv_get_used(&d->v, &d->q[qi], &id, &len)) {
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
		n++;
	}
	return n;
}

/* Requests in flight complete before the save; published ones, and one whose kick came while
 * the device was paused, complete after the load in the new machine, each exactly once; the
 * driver then goes on (no reset, interrupts arrive). */
static void test_blk_move(void **state)
{
	struct tdev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint8_t seen[2][QSIZE] = {{0}};
	uint8_t *buf = malloc(65536);
	int heads[2][8];

	start(a, NULL, "queues=2");
	setup(a, ALL | F_EVT, 2);
	/* Four writes on two queues, taken by the device and on the disk when it pauses. */
	for (unsigned k = 0; k < 4; k++) {
		fill(a, k, 65536, 10 + k);
		heads[k % 2][k / 2] = post(a, k % 2, k, T_OUT, 256ull * k, 65536, 4, k == 3);
	}
	kick(a, 0);
	kick(a, 1);
	harness_run(&a->h, 0); /* the kicks are served, the requests go to the pool */
	machine_pause_devices(&a->h.m, true);
	assert_int_equal(used_idx(a, 0), 2);
	assert_int_equal(used_idx(a, 1), 2);
	/* Published while paused, one kicked: nothing moves. */
	for (unsigned k = 4; k < 8; k++) {
		memset(hram(&a->h, DATA_GPA(k), 65536), 0, 65536);
		heads[k % 2][k / 2] = post(a, k % 2, k, T_IN, 256ull * (k - 4), 65536, 2, false);
	}
	kick(a, 1);
	harness_run(&a->h, 50);
	assert_int_equal(used_idx(a, 0), 2);
	assert_int_equal(used_idx(a, 1), 2);
	assert_int_equal(status_of(a, 5), NO_STATUS);
	/* The driver has taken what completed (with EVENT_IDX it asks for the next interrupt). */
	assert_int_equal(take_all(a, 0, seen[0]) + take_all(a, 1, seen[1]), 4);
	unsigned msi0 = a->v.nmsi;

	live = b;
	struct vmstate_out out = move(a, b, "queues=2");
	free(a);
	load_and_go(b, &out);
	vmstate_out_free(&out);
	assert_true(wait_used(b, 0, 2));
	assert_true(wait_used(b, 1, 2));
	assert_int_equal(take_all(b, 0, seen[0]) + take_all(b, 1, seen[1]), 4);
	for (unsigned k = 0; k < 8; k++) {
		assert_true(seen[k % 2][heads[k % 2][k / 2]]);
		assert_int_equal(status_of(b, k), S_OK);
	}
	/* The reads after the load see the writes before the save. */
	for (unsigned k = 4; k < 8; k++) {
		file_read(b, buf, 65536, 256 * 512 * (k - 4));
		assert_memory_equal(buf, hram(&b->h, DATA_GPA(k), 65536), 65536);
		assert_memory_equal(buf, hram(&b->h, DATA_GPA(k - 4), 65536), 65536);
	}
	/* No reset: DRIVER_OK holds; the driver goes on, with interrupts. */
	assert_int_equal(status(b) & 0x4f, 0x0f);
	assert_true(b->v.nmsi > msi0);
	unsigned msi1 = b->v.nmsi;
	fill(b, 8, 4096, 99);
	assert_int_equal(request(b, 1, 8, T_OUT, 4000, 4096, 1, false, NULL), S_OK);
	assert_true(vdrv_msi_count(&b->v, 1) > 0 && b->v.nmsi > msi1);
	assert_int_equal(request(b, 0, 9, T_FLUSH, 0, 0, 0, false, NULL), S_OK);
	stop(b);
	free(b);
	free(buf);
}

/* The legacy interface (INTx, queue page numbers) saved and loaded the same way. */
static void test_blk_move_legacy(void **state)
{
	struct tdev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint8_t seen[QSIZE] = {0};

	start(a, NULL, "queues=1,vectors=0");
	a->legacy = true;
	setup(a, ALL, 1);
	fill(a, 0, 4096, 3);
	assert_int_equal(request(a, 0, 0, T_OUT, 64, 4096, 1, false, NULL), S_OK);
	post(a, 0, 1, T_IN, 64, 4096, 1, false);
	live = b;
	struct vmstate_out out = move(a, b, "queues=1,vectors=0");
	free(a);
	load_and_go(b, &out);
	vmstate_out_free(&out);
	assert_true(wait_used(b, 0, 1));
	assert_int_equal(take_all(b, 0, seen), 1);
	assert_int_equal(status_of(b, 1), S_OK);
	assert_memory_equal(hram(&b->h, DATA_GPA(0), 4096), hram(&b->h, DATA_GPA(1), 4096), 4096);
	/* The ISR says the queue interrupted; reading it lowers the line. */
	assert_int_equal(vdrv_leg_read(&b->v, VDRV_LEG_ISR, 1) & 1, 1);
	assert_int_equal(status(b), 7);
	assert_int_equal(request(b, 0, 2, T_IN, 64, 4096, 1, false, NULL), S_OK);
	stop(b);
	free(b);
}

/* --- a request held for a retry (on_error=pause) ----------------------------------------- */

static bool small_tmpfs(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vblk-st-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") == 0) {
		snprintf(live_dir, sizeof(live_dir), "%s", dir);
		live_mounted = true;
		return true;
	}
	rmdir(dir);
	return false;
}

static void fill_up(const char *dir, char *filler, size_t len)
{
	static const uint8_t block[4096];
	int fd;

	snprintf(filler, len, "%s/filler", dir);
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	close(fd);
}

/* A write the full disk refused is held; it is saved with the device, taken back from the ring
 * by the load, and completes once there is room, once. */
static void test_blk_held(void **state)
{
	struct tdev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint8_t seen[QSIZE] = {0};
	uint8_t *buf = malloc(65536);
	char dir[64], filler[96];

	if (!small_tmpfs(dir, sizeof(dir))) {
		free(a);
		free(b);
		free(buf);
		skip();
	}
	start(a, dir, "on_error=pause,queues=1");
	setup(a, ALL, 1);
	fill_up(dir, filler, sizeof(filler));
	fill(a, 0, 65536, 4);
	int head = post(a, 0, 0, T_OUT, 0, 65536, 1, false);
	kick(a, 0);
	harness_run(&a->h, 200);
	assert_int_equal(status_of(a, 0), NO_STATUS);
	live = b;
	struct vmstate_out out = move(a, b, "on_error=pause,queues=1");
	free(a);
	size_t held;
	assert_non_null(st_field(out.buf, out.len, "vd0", "blk.held", &held));
	assert_int_equal(held, 4);
	unlink(filler);
	load_and_go(b, &out);
	vmstate_out_free(&out);
	virtio_blk_retry(machine_device(&b->h.m, "vd0"));
	assert_true(wait_used(b, 0, 1));
	assert_int_equal(take_all(b, 0, seen), 1);
	assert_true(seen[head]);
	assert_int_equal(status_of(b, 0), S_OK);
	file_read(b, buf, 65536, 0);
	assert_memory_equal(buf, hram(&b->h, DATA_GPA(0), 65536), 65536);
	harness_run(&b->h, 50);
	assert_int_equal(used_idx(b, 0), 1); /* not twice */
	stop(b);
	remove_dir();
	free(b);
	free(buf);
}

/* --- damaged sections ----------------------------------------------------------------------- */

struct damage {
	const char *field;
	uint64_t value; /* the new value; with add: added to the saved one */
	bool add;
	const char *why;    /* a part of the refusal's sentence */
	const char *field2; /* with add: a second field moved by as much */
};

/* Each damaged copy of one good saved state is refused, naming the device and the problem; the
 * good one loads. */
static void test_blk_damaged(void **state)
{
	static const struct damage cases[] = {
	    {"vq.0.size", 3, false, "power of two", NULL},
	    {"vq.0.size", 512, false, "vq.0.size", NULL},
	    {"vq.1.vector", 40, false, "MSI-X vectors", NULL},
	    {"vq.0.desc", 0x7ffff0000000ull, false, "outside guest RAM", NULL},
	    {"vq.0.avail", 0x100001, false, "misaligned", NULL},
	    {"vq.0.last_avail", 300, true, "in flight", NULL},
	    {"vq.0.last_avail", 1, true, "the device's state holds 0", NULL},
	    {"vq.1.used_idx", 1, true, "used ring in guest RAM", "vq.1.last_avail"},
	    {"vq.1.discarded", 1, false, "dropped", NULL},
	    {"virtio.queues", 3, false, "saved with 3 queues", NULL},
	    {"virtio.status", 0x2f, false, "bits no device status has", NULL},
	    {"virtio.features_set", 0, false, "without accepted features", NULL},
	    {"virtio.guest_features", 1ull << 40, true, "not all offered", NULL},
	    {"virtio.config_vector", 9, false, "MSI-X vectors", NULL},
	    {"virtio.isr", 4, false, "virtio.isr", NULL},
	};
	struct tdev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char err[256];

	start(a, NULL, "queues=2");
	setup(a, ALL | F_EVT, 2);
	fill(a, 0, 4096, 1);
	assert_int_equal(request(a, 0, 0, T_OUT, 0, 4096, 1, false, NULL), S_OK);
	assert_int_equal(request(a, 1, 1, T_IN, 0, 4096, 1, false, NULL), S_OK);
	live = b;
	struct vmstate_out out = move(a, b, "queues=2");
	free(a);
	uint8_t *ram = st_ram(&b->h, RAM);
	uint8_t *copy = malloc(out.len);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct damage *c = &cases[i];
		memcpy(copy, out.buf, out.len);
		uint64_t v = c->value;
		if (c->add)
			v += st_get(copy, out.len, "vd0", c->field);
		st_set(copy, out.len, "vd0", c->field, v);
		if (c->field2)
			st_set(copy, out.len, "vd0", c->field2,
			       st_get(copy, out.len, "vd0", c->field2) + c->value);
		err[0] = 0;
		assert_int_equal(st_load(&b->h, copy, out.len, err, sizeof(err)), -EINVAL);
		if (!strstr(err, "vd0") || !strstr(err, c->why))
			fail_msg("%s = %#llx: refused with \"%s\", not about \"%s\"", c->field,
				 (unsigned long long)v, err, c->why);
		/* A fresh machine for the next case (the refused one is thrown away). */
		harness_fini(&b->h);
		attach_bare(b, "queues=2", ram);
	}
	/* A missing field, and a changed read-only PCI byte (the device id). */
	memcpy(copy, out.buf, out.len);
	st_rename(copy, out.len, "vd0", "vq.1.used", "vq.1.usex");
	assert_int_equal(st_load(&b->h, copy, out.len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vq.1.used"));
	harness_fini(&b->h);
	attach_bare(b, "queues=2", ram);
	memcpy(copy, out.buf, out.len);
	size_t dlen;
	uint8_t *cfg = st_field(copy, out.len, "vd0", "pci.config", &dlen);
	assert_non_null(cfg);
	cfg[2] ^= 1;
	assert_int_equal(st_load(&b->h, copy, out.len, err, sizeof(err)), -EINVAL);
	harness_fini(&b->h);
	attach_bare(b, "queues=2", ram);
	/* The good one. */
	load_and_go(b, &out);
	assert_int_equal(request(b, 0, 2, T_IN, 0, 4096, 1, false, NULL), S_OK);
	assert_memory_equal(hram(&b->h, DATA_GPA(0), 4096), hram(&b->h, DATA_GPA(2), 4096), 4096);
	vmstate_out_free(&out);
	free(copy);
	free(ram);
	stop(b);
	free(b);
}

/* --- virtio-rng ------------------------------------------------------------------------------ */

#define RNG_DEVFN PCI_DEVFN(4, 0)
#define RNG_RING  0x100000u
#define RNG_BUF	  0x200000u

static void rng_machine(struct harness *h, const uint8_t *ram)
{
	harness_init(h, RAM);
	if (ram)
		st_put_ram(h, ram, RAM);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	harness_add(h, "virtio-rng", "rng0", "slot=4,rate=0");
}

/* Paused, the entropy device fills no buffer; saved and loaded, the new machine fills the ones
 * the driver had published. */
static void test_rng_pause_move(void **state)
{
	struct harness *ha = calloc(1, sizeof(*ha)), *hb = calloc(1, sizeof(*hb));
	struct vdrv d;
	struct vdrv_queue q;
	uint8_t seen[64] = {0};
	uint16_t id;
	uint32_t len;

	rng_machine(ha, NULL);
	vdrv_init(&d, ha, RNG_DEVFN);
	assert_true(vdrv_negotiate(&d, F_EVT));
	vdrv_msix_enable(&d, 2);
	assert_true(vdrv_queue_setup(&d, &q, 0, 0, RNG_RING, 1));
	vdrv_driver_ok(&d);
	struct vdrv_buf buf = {RNG_BUF, 64, true};
	assert_true(vdrv_add(&d, &q, &buf, 1, 0) >= 0);
	vdrv_kick(&d, &q);
	assert_true(vdrv_wait_used(&d, &q, 1, 2000));
	assert_true(vdrv_get_used(&d, &q, &id, &len));
	assert_int_equal(len, 64);
	machine_pause_devices(&ha->m, true);
	for (unsigned i = 0; i < 3; i++) {
		buf.gpa = RNG_BUF + 4096 * (i + 1);
		memset(hram(ha, buf.gpa, 64), 0, 64);
		assert_true(vdrv_add(&d, &q, &buf, 1, 0) >= 0);
	}
	vdrv_kick(&d, &q);
	harness_run(ha, 50);
	assert_int_equal(vdrv_used_idx(&d, &q), 1);
	struct vmstate_out out;
	vmstate_out_init(&out);
	machine_save_devices(&ha->m, &out);
	assert_int_equal(vmstate_out_error(&out), 0);
	uint8_t *ram = st_ram(ha, RAM);
	harness_fini(ha);
	rng_machine(hb, ram);
	free(ram);
	d.h = hb;
	char err[256] = "";
	if (st_load(hb, out.buf, out.len, err, sizeof(err)) < 0)
		fail_msg("load refused: %s", err);
	msi_set_backend(&hb->m, &vdrv_msi_ops, &d);
	vmstate_out_free(&out);
	machine_pause_devices(&hb->m, false);
	assert_true(vdrv_wait_used(&d, &q, 3, 2000));
	for (unsigned i = 0; i < 3; i++) {
		assert_true(vdrv_get_used(&d, &q, &id, &len));
		assert_int_equal(len, 64);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
	}
	static const uint8_t zero[64];
	assert_memory_not_equal(hram(hb, RNG_BUF + 4096, 64), zero, 64);
	assert_true(vdrv_msi_count(&d, 1) > 0);
	harness_fini(hb);
	free(ha);
	free(hb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_blk_move, teardown),
	    cmocka_unit_test_teardown(test_blk_move_legacy, teardown),
	    cmocka_unit_test_teardown(test_blk_held, teardown),
	    cmocka_unit_test_teardown(test_blk_damaged, teardown),
	    cmocka_unit_test(test_rng_pause_move),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
