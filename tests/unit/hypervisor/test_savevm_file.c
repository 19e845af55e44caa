/* Saved-state files without KVM: state and RAM (low and high) read back as
 * written, zero pages take no room; every truncation, every flipped byte of
 * the header, state and RAM table, and hand-made headers and tables with
 * good checksums but impossible values are refused with a sentence naming
 * the file; a write that runs out of space leaves the old file and no
 * temporary behind. */
#include "hypervisor/bytes.h"
#include "hypervisor/savevm.h"
#include "hypervisor/savevm_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PG	  4096u
#define LOW	  (1u << 20)
#define HIGH	  (256u << 10)
#define STATE_LEN 5000u

/* Header offsets (savevm_file.h). */
#define H_MEMORY    16
#define H_BELOW	    24
#define H_CPUS	    40
#define H_NAME	    56
#define H_STATE_LEN 128
#define H_DATA_OFF  136
#define H_DATA_LEN  144
#define H_TABLE_OFF 152
#define H_TABLE_LEN 160
#define H_STATE_CRC 168
#define H_TABLE_CRC 172
#define H_CRC	    176

static char dir[64], path[128];
static uint8_t *low, *high, state[STATE_LEN];
static uint8_t *file;
static size_t file_len;

static uint8_t *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static void fill_page(uint8_t *p, unsigned seed)
{
	for (unsigned i = 0; i < PG; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

static struct savevm_ram ram_of(uint8_t *l, uint8_t *h)
{
	return (struct savevm_ram){.low = l, .low_size = LOW, .high = h, .high_size = HIGH};
}

static void read_whole(const char *p, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	*buf = malloc(*len);
	assert_int_equal(fread(*buf, 1, *len, f), *len);
	fclose(f);
}

static void write_whole(const char *p, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* The reference file: a few data pages in both regions, runs that touch
 * the start and end of each region, zero pages between. */
static int setup(void **st)
{
	low = map(LOW);
	high = map(HIGH);
	fill_page(low, 1);
	fill_page(low + PG, 2); /* a run of two pages */
	fill_page(low + 10 * PG, 3);
	low[LOW - 1] = 0x55; /* the last page of low RAM, one byte */
	fill_page(high, 4);  /* the first of high RAM: a run of its own */
	fill_page(high + HIGH - PG, 5);
	for (unsigned i = 0; i < STATE_LEN; i++)
		state[i] = (uint8_t)(i * 13);
	struct savevm_ram ram = ram_of(low, high);
	char err[256];
	snprintf(path, sizeof(path), "%s/ref.vmstate", dir);
	assert_int_equal(
	    savevm_file_write(path, "ref-vm", 3, state, STATE_LEN, &ram, err, sizeof(err)), 0);
	read_whole(path, &file, &file_len);
	return 0;
}

static int teardown(void **st)
{
	munmap(low, LOW);
	munmap(high, HIGH);
	free(file);
	return 0;
}

static void test_roundtrip(void **st)
{
	char err[256];
	struct savevm_info info;
	assert_int_equal(savevm_probe(path, &info, err, sizeof(err)), 0);
	assert_int_equal(info.memory, LOW + HIGH);
	assert_int_equal(info.cpus, 3);
	assert_string_equal(info.vm_name, "ref-vm");
	assert_true(info.saved_at <= (uint64_t)time(NULL) && info.saved_at > 1700000000);
	/* Six data pages, five runs: zero pages take no room. */
	uint64_t data_off = (PG + STATE_LEN + PG - 1) / PG * PG;
	assert_int_equal(file_len, data_off + 6 * PG + 5 * 16);

	struct savevm_file f;
	assert_int_equal(savevm_file_open(path, &f, false, err, sizeof(err)), 0);
	assert_int_equal(f.h.cpus, 3);
	assert_memory_equal(f.state, state, STATE_LEN);
	/* Into RAM that holds something else: what the file does not hold
	 * reads as zero afterwards. */
	uint8_t *l = map(LOW), *h = map(HIGH);
	memset(l, 0xaa, LOW);
	memset(h, 0xbb, HIGH);
	struct savevm_ram ram = ram_of(l, h);
	assert_int_equal(savevm_file_read_ram(&f, &ram, err, sizeof(err)), 0);
	assert_memory_equal(l, low, LOW);
	assert_memory_equal(h, high, HIGH);
	/* RAM of another size is refused. */
	ram.high_size = 2 * HIGH;
	assert_int_equal(savevm_file_read_ram(&f, &ram, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	savevm_file_close(&f);
	munmap(l, LOW);
	munmap(h, HIGH);
}

/* Opening `p` fails with -EINVAL and a sentence naming it. */
static void expect_refused(const char *p, const char *what)
{
	char err[512] = "";
	struct savevm_file f;
	int r = savevm_file_open(p, &f, false, err, sizeof(err));
	if (r != -EINVAL)
		print_error("%s: %d (%s)\n", what, r, err);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, p));
	assert_true(strlen(err) > strlen(p) + 10);
	assert_null(strchr(err, '\n'));
	assert_int_equal(f.fd, -1);
}

static void test_truncated(void **st)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/cut.vmstate", dir);
	/* Every length, made by cutting one file shorter and shorter. */
	write_whole(p, file, file_len);
	for (size_t len = file_len; len-- > 0;) {
		assert_int_equal(truncate(p, (off_t)len), 0);
		expect_refused(p, "truncated");
	}
	/* And one byte too many. */
	uint8_t *more = calloc(1, file_len + 1);
	memcpy(more, file, file_len);
	write_whole(p, more, file_len + 1);
	expect_refused(p, "trailing byte");
	free(more);
}

static void test_flipped_bytes(void **st)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/flip.vmstate", dir);
	write_whole(p, file, file_len);
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	/* Every byte of the header, the state and the table (the RAM data
	 * itself carries no checksum: it is read at memory speed). */
	uint64_t data_off = get_le64(file + H_DATA_OFF), data_len = get_le64(file + H_DATA_LEN);
	for (size_t at = 0; at < file_len; at++) {
		if (at >= data_off && at < data_off + data_len)
			continue;
		if (at >= PG + STATE_LEN && at < data_off)
			continue; /* the padding after the state */
		for (uint8_t bit = 1; bit; bit <<= 3) {
			uint8_t b = file[at] ^ bit;
			assert_int_equal(pwrite(fd, &b, 1, (off_t)at), 1);
			expect_refused(p, "flipped");
			assert_int_equal(pwrite(fd, &file[at], 1, (off_t)at), 1);
		}
	}
	close(fd);
	char err[256];
	struct savevm_file f;
	assert_int_equal(savevm_file_open(p, &f, false, err, sizeof(err)), 0);
	savevm_file_close(&f);
}

static void fix_crcs(uint8_t *buf, size_t len)
{
	uint64_t toff = get_le64(buf + H_TABLE_OFF), tlen = get_le64(buf + H_TABLE_LEN);
	if (toff + tlen <= len)
		put_le32(buf + H_TABLE_CRC, (uint32_t)crc32(0, buf + toff, (uInt)tlen));
	put_le32(buf + H_CRC, 0);
	put_le32(buf + H_CRC, (uint32_t)crc32(0, buf, PG));
}

/* A copy of the reference with a change, checksums made right again. */
static void expect_made_refused(void (*change)(uint8_t *buf, size_t *len), const char *what)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/made.vmstate", dir);
	uint8_t *buf = calloc(1, file_len + 64);
	memcpy(buf, file, file_len);
	size_t len = file_len;
	change(buf, &len);
	fix_crcs(buf, len);
	write_whole(p, buf, len);
	expect_refused(p, what);
	free(buf);
}

static void bad_magic(uint8_t *b, size_t *len)
{
	memcpy(b, "QEVM\0\0\0\3", 8);
}
static void bad_memory_sum(uint8_t *b, size_t *len)
{
	put_le64(b + H_MEMORY, get_le64(b + H_MEMORY) + PG);
}
static void bad_low_unaligned(uint8_t *b, size_t *len)
{
	put_le64(b + H_BELOW, get_le64(b + H_BELOW) - 1);
	put_le64(b + H_MEMORY, get_le64(b + H_MEMORY) - 1);
}
static void bad_no_cpus(uint8_t *b, size_t *len)
{
	put_le32(b + H_CPUS, 0);
}
static void bad_many_cpus(uint8_t *b, size_t *len)
{
	put_le32(b + H_CPUS, 100000);
}
static void bad_name_unterminated(uint8_t *b, size_t *len)
{
	memset(b + H_NAME, 'a', 64);
}
static void bad_name_control(uint8_t *b, size_t *len)
{
	b[H_NAME + 1] = '\n';
}
static void bad_state_len(uint8_t *b, size_t *len)
{
	put_le64(b + H_STATE_LEN, get_le64(b + H_STATE_LEN) + 1);
}
static void bad_data_len(uint8_t *b, size_t *len)
{
	put_le64(b + H_DATA_LEN, get_le64(b + H_DATA_LEN) - PG);
	put_le64(b + H_TABLE_OFF, get_le64(b + H_TABLE_OFF) - PG);
}
static void bad_table_len(uint8_t *b, size_t *len)
{
	put_le64(b + H_TABLE_LEN, get_le64(b + H_TABLE_LEN) - 8);
	*len -= 8;
}
static uint8_t *run(uint8_t *b, unsigned i)
{
	return b + get_le64(b + H_TABLE_OFF) + 16 * i;
}
static void bad_run_order(uint8_t *b, size_t *len)
{
	/* Runs 0 and 1 swapped. */
	uint8_t t[16];
	memcpy(t, run(b, 0), 16);
	memcpy(run(b, 0), run(b, 1), 16);
	memcpy(run(b, 1), t, 16);
}
static void bad_run_overlap(uint8_t *b, size_t *len)
{
	put_le64(run(b, 1), get_le64(run(b, 0)) + PG);
}
static void bad_run_unaligned(uint8_t *b, size_t *len)
{
	put_le64(run(b, 1), get_le64(run(b, 1)) + 8);
}
static void bad_run_outside(uint8_t *b, size_t *len)
{
	put_le64(run(b, 4), LOW + HIGH);
}
static void bad_run_huge(uint8_t *b, size_t *len)
{
	put_le64(run(b, 4) + 8, UINT64_MAX - PG + 1);
}
static void bad_run_empty(uint8_t *b, size_t *len)
{
	/* Run 2 (one page) gives its page to run 0: the sum stays right. */
	put_le64(run(b, 2) + 8, 0);
	put_le64(run(b, 0) + 8, 3 * PG);
}
static void bad_run_crosses(uint8_t *b, size_t *len)
{
	/* The last page of low RAM, made two pages long: into high RAM. */
	put_le64(run(b, 2) + 8, 2 * PG);
	put_le64(run(b, 3), LOW + PG);
	put_le64(run(b, 0) + 8, PG); /* the sum stays right */
}
static void bad_runs_sum(uint8_t *b, size_t *len)
{
	put_le64(run(b, 0) + 8, PG);
}

static void test_made_by_hand(void **st)
{
	/* The reference's table: 0: low 0-2 pages, 1: low page 10, 2: low's
	 * last page, 3: high's first, 4: high's last. */
	assert_int_equal(get_le64(run(file, 0) + 8), 2 * PG);
	assert_int_equal(get_le64(run(file, 2)), LOW - PG);
	assert_int_equal(get_le64(run(file, 3)), LOW);
	expect_made_refused(bad_magic, "magic");
	expect_made_refused(bad_memory_sum, "memory sum");
	expect_made_refused(bad_low_unaligned, "unaligned low RAM");
	expect_made_refused(bad_no_cpus, "no vCPUs");
	expect_made_refused(bad_many_cpus, "100000 vCPUs");
	expect_made_refused(bad_name_unterminated, "name");
	expect_made_refused(bad_name_control, "name");
	expect_made_refused(bad_state_len, "state length");
	expect_made_refused(bad_data_len, "data length");
	expect_made_refused(bad_table_len, "table length");
	expect_made_refused(bad_run_order, "run order");
	expect_made_refused(bad_run_overlap, "overlap");
	expect_made_refused(bad_run_unaligned, "unaligned run");
	expect_made_refused(bad_run_outside, "run outside RAM");
	expect_made_refused(bad_run_huge, "run wrapping");
	expect_made_refused(bad_run_empty, "empty run");
	expect_made_refused(bad_run_crosses, "run crossing into high RAM");
	expect_made_refused(bad_runs_sum, "runs' sum");

	/* Not one at all, and nothing there. */
	char err[512];
	struct savevm_file f;
	expect_refused(dir, "a folder");
	char p[160];
	snprintf(p, sizeof(p), "%s/none.vmstate", dir);
	assert_int_equal(savevm_file_open(p, &f, false, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, p));
	struct savevm_info info;
	assert_int_equal(savevm_probe(p, &info, err, sizeof(err)), -ENOENT);
}

static unsigned count_files(void)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.' || strstr(e->d_name, ".tmp-") != NULL;
	closedir(d);
	return n;
}

/* Out of space (a file size limit: EFBIG, the same path as ENOSPC): the
 * old file is as it was and no temporary is left. */
static void test_no_space(void **st)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/full.vmstate", dir);
	write_whole(p, file, file_len);
	unsigned before = count_files();
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = {.rlim_cur = 3 * PG, .rlim_max = 3 * PG};
		setrlimit(RLIMIT_FSIZE, &rl);
		char err[512] = "";
		struct savevm_ram ram = ram_of(low, high);
		int r = savevm_file_write(p, "x", 1, state, STATE_LEN, &ram, err, sizeof(err));
		if (write(fds[1], err, strlen(err) + 1) < 0)
			_exit(3);
		_exit(r == -EFBIG ? 0 : 2);
	}
	close(fds[1]);
	char msg[512] = "";
	ssize_t got = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(got > 0);
	assert_non_null(strstr(msg, p));
	assert_non_null(strstr(msg, "not enough space"));
	uint8_t *now;
	size_t len;
	read_whole(p, &now, &len);
	assert_int_equal(len, file_len);
	assert_memory_equal(now, file, len);
	free(now);
	assert_int_equal(count_files(), before);

	/* A folder that does not exist: a sentence, nothing made. */
	char err[512];
	struct savevm_ram ram = ram_of(low, high);
	snprintf(p, sizeof(p), "%s/no/such/folder.vmstate", dir);
	assert_int_equal(savevm_file_write(p, NULL, 1, state, STATE_LEN, &ram, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, p));
}

/* A VM with no RAM data at all (every page zero) and one whose high RAM is
 * one run: both come back. */
static void test_all_zero_and_all_data(void **st)
{
	char p[160], err[256];
	snprintf(p, sizeof(p), "%s/zero.vmstate", dir);
	uint8_t *l = map(LOW), *h = map(HIGH);
	struct savevm_ram ram = ram_of(l, h);
	assert_int_equal(savevm_file_write(p, NULL, 1, state, 1, &ram, err, sizeof(err)), 0);
	struct savevm_file f;
	assert_int_equal(savevm_file_open(p, &f, false, err, sizeof(err)), 0);
	assert_int_equal(f.h.data_len, 0);
	assert_string_equal(f.h.vm_name, "");
	memset(l, 1, LOW);
	assert_int_equal(savevm_file_read_ram(&f, &ram, err, sizeof(err)), 0);
	for (unsigned i = 0; i < LOW; i += PG)
		assert_int_equal(l[i] | l[i + PG - 1], 0);
	savevm_file_close(&f);

	for (unsigned i = 0; i < HIGH; i += PG)
		fill_page(h + i, i);
	assert_int_equal(savevm_file_write(p, NULL, 1, state, STATE_LEN, &ram, err, sizeof(err)),
			 0);
	uint8_t *h2 = map(HIGH);
	struct savevm_ram ram2 = ram_of(map(LOW), h2);
	assert_int_equal(savevm_file_open(p, &f, false, err, sizeof(err)), 0);
	assert_int_equal(f.h.table_len, 16);
	assert_int_equal(savevm_file_read_ram(&f, &ram2, err, sizeof(err)), 0);
	assert_memory_equal(h2, h, HIGH);
	savevm_file_close(&f);
	munmap(ram2.low, LOW);
	munmap(h2, HIGH);
	munmap(l, LOW);
	munmap(h, HIGH);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/osio-savevm-file-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),	  cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_flipped_bytes), cmocka_unit_test(test_made_by_hand),
	    cmocka_unit_test(test_no_space),	  cmocka_unit_test(test_all_zero_and_all_data),
	};
	int r = cmocka_run_group_tests(tests, setup, teardown);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0 && !r)
		r = 1;
	return r;
}
