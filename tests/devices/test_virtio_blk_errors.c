/* virtio-blk and host errors: an error the host's file system gives (EFBIG, a full tmpfs) is an
 * I/O error for the guest with on_error=report, and with on_error=pause the request is held,
 * the hook told, and the request retried once there is room. */
#include "tests/devices/virtio_blk_test.h"

/* A host error (writing past the process's file size limit: EFBIG) is an I/O error for the
 * guest; the device goes on working. */
static void test_host_error_report(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct rlimit old, lim;

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1u << 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	fill(d, 0, 4096, 7);
	uint8_t st = request(d, 0, 0, T_OUT, 4096, 4096, 1, false, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(st, S_IOERR);
	assert_int_equal(request(d, 0, 0, T_OUT, 4096, 4096, 1, false, NULL), S_OK);
	assert_false(status(d) & 0x40);
	stop(d);
	free(d);
}

struct hook_calls {
	unsigned n;
	int err;
};

static void error_hook(void *opaque, const char *id, const char *path, int err)
{
	struct hook_calls *c = opaque;

	__atomic_add_fetch(&c->n, 1, __ATOMIC_SEQ_CST);
	c->err = err;
}

/* A full file system: tmpfs of 256 KiB holding a sparse 4 MiB image and a filler. Skipped where
 * tmpfs cannot be mounted (not root). */
static bool mount_small_tmpfs(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vblk-fs-XXXXXX");
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

static void fill_fs(const char *dir, char *filler, size_t len)
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

static void unmount_tmpfs(struct tdev *d)
{
	stop(d);
	remove_dir();
}

static void test_disk_full_report(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	char dir[64], filler[96];

	if (!mount_small_tmpfs(dir, sizeof(dir))) {
		free(d);
		skip();
	}
	start(d, dir, "on_error=report");
	setup(d, ALL, 1);
	fill_fs(dir, filler, sizeof(filler));
	fill(d, 0, 65536, 2);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 65536, 1, false, NULL), S_IOERR);
	unlink(filler);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 65536, 1, false, NULL), S_OK);
	unmount_tmpfs(d);
	free(d);
}

/* on_error=pause: the request waits (the hook pauses the VM) and succeeds once there is room. */
static void test_disk_full_pause(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct hook_calls calls = {0};
	char dir[64], filler[96];
	uint8_t *buf = malloc(65536);
	uint16_t id;
	uint32_t len;

	if (!mount_small_tmpfs(dir, sizeof(dir))) {
		free(buf);
		free(d);
		skip();
	}
	start(d, dir, "on_error=pause");
	virtio_blk_set_error_hook(machine_device(&d->h.m, "vd0"), error_hook, &calls);
	setup(d, ALL, 1);
	fill_fs(dir, filler, sizeof(filler));
	fill(d, 0, 65536, 4);
	post(d, 0, 0, T_OUT, 0, 65536, 1, false);
	kick(d, 0);
	harness_run(&d->h, 300);
	assert_int_equal(used_idx(d, 0), 0);
	assert_int_equal(status_of(d, 0), NO_STATUS);
	assert_true(__atomic_load_n(&calls.n, __ATOMIC_SEQ_CST) >= 1);
	assert_int_equal(calls.err, -ENOSPC);
	/* Room again: the retry (at once here; every second by itself) completes it. */
	unlink(filler);
	virtio_blk_retry(machine_device(&d->h.m, "vd0"));
	assert_true(wait_used(d, 0, 1));
	take_used(d, 0, &id, &len);
	assert_int_equal(status_of(d, 0), S_OK);
	file_read(d, buf, 65536, 0);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 65536), 65536);
	/* And by itself, with the timer. */
	fill_fs(dir, filler, sizeof(filler));
	fill(d, 1, 65536, 5);
	post(d, 0, 1, T_OUT, 1024, 65536, 1, false);
	kick(d, 0);
	harness_run(&d->h, 200);
	assert_int_equal(status_of(d, 1), NO_STATUS);
	unlink(filler);
	assert_true(wait_used(d, 0, 1));
	assert_int_equal(status_of(d, 1), S_OK);
	unmount_tmpfs(d);
	free(buf);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_host_error_report, teardown),
	    cmocka_unit_test_teardown(test_disk_full_report, teardown),
	    cmocka_unit_test_teardown(test_disk_full_pause, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
