/* A small mutation fuzzer for the image formats' parsers: it mutates seed
 * images in their header and metadata areas (bit flips, bytes, 32/64-bit
 * fields set to boundary values, inserted and removed bytes, truncation),
 * then opens each result read-only and read-write through the block layer,
 * reads, writes and checks it. An image must be refused with a message that
 * names the file, or work; a sanitizer report, a crash or a hang fails.
 *
 *   fuzz --dir DIR [--format F] [--seconds N] [--iterations N] [--seed S] SEED...
 *
 * The inputs are written into DIR (so relative parent names in seeds find
 * their parents there); the last one stays as DIR/current.<ext>. */
#include "devices/block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEED_SIZE (64ull << 20)
#define HEAD_AREA     (8u << 20) /* where headers, logs, tables and BATs live */
#define TAIL_AREA     (64u << 10)
#define READ_BUDGET   (4u << 20) /* bytes read per open */
#define PIECE	      (64u << 10)
#define HANG_SECONDS  20

struct seed {
	const char *name;
	uint8_t *data;
	size_t len;
	uint32_t *hot; /* offsets of nonzero 512-byte sectors in the head and tail */
	size_t nhot;
};

static uint64_t rng_state;
static uint64_t iteration;
static uint64_t run_seed;
static char current[PATH_MAX];

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void say_where(void)
{
	char msg[PATH_MAX + 160];
	int n = snprintf(msg, sizeof(msg),
			 "fuzz: FAILED in iteration %" PRIu64 " of seed %" PRIu64
			 " (rerun with --seed %" PRIu64 "); the input is %s\n",
			 iteration, run_seed, run_seed, current);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg));
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char hang[] = "fuzz: an iteration took too long (a hang?)\n";
	(void)!write(STDERR_FILENO, hang, sizeof(hang) - 1);
	say_where();
	_exit(1);
}

extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

/* --- seeds ------------------------------------------------------------------ */

static int load_seed(const char *path, struct seed *s)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (len <= 0 || (uint64_t)len > MAX_SEED_SIZE) {
		fprintf(stderr, "fuzz: %s: empty or larger than 64 MiB\n", path);
		fclose(f);
		return -1;
	}
	s->name = path;
	s->len = (size_t)len;
	s->data = malloc(s->len);
	s->hot = calloc(s->len / 512 + 1, sizeof(*s->hot));
	if (!s->data || !s->hot || fread(s->data, 1, s->len, f) != s->len) {
		fprintf(stderr, "fuzz: %s: cannot read\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	for (size_t off = 0; off < s->len; off += 512) {
		if (off >= HEAD_AREA && off + TAIL_AREA < s->len)
			continue;
		size_t n = s->len - off < 512 ? s->len - off : 512;
		for (size_t i = 0; i < n; i++) {
			if (s->data[off + i]) {
				s->hot[s->nhot++] = (uint32_t)off;
				break;
			}
		}
	}
	return 0;
}

/* --- mutations ------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

/* A position worth changing: mostly in a sector of metadata (nonzero in the
 * seed), sometimes anywhere in the head or tail area. */
static size_t pick(const struct seed *s, const struct buf *b)
{
	if (!b->len)
		return 0;
	size_t pos;
	if (s->nhot && below(10) < 8)
		pos = s->hot[below(s->nhot)] + below(512);
	else if (below(4) == 0 && b->len > TAIL_AREA)
		pos = b->len - 1 - below(TAIL_AREA);
	else
		pos = below(b->len < HEAD_AREA ? b->len : HEAD_AREA);
	return pos < b->len ? pos : b->len - 1;
}

static uint64_t boundary(const struct buf *b, uint64_t old)
{
	static const uint64_t v[] = {0,
				     1,
				     2,
				     0x7f,
				     0x80,
				     0xff,
				     0x100,
				     0x1ff,
				     0x200,
				     0x1000,
				     0xffff,
				     0x10000,
				     0x100000,
				     0x7fffffff,
				     0x80000000,
				     0xfffffffe,
				     0xffffffff,
				     0x100000000ull,
				     0x10000000000ull,
				     0x7fffffffffffffffull,
				     0x8000000000000000ull,
				     0xfffffffffffffe00ull,
				     0xffffffffffffffffull};
	switch (below(6)) {
	case 0:
		return b->len + below(3) * 512 - 512;
	case 1:
		return old + 1;
	case 2:
		return old - 1;
	case 3:
		return old ^ (1ull << below(64));
	case 4:
		return rnd();
	default:
		return v[below(sizeof(v) / sizeof(v[0]))];
	}
}

static void put_field(struct buf *b, size_t pos, unsigned bytes, uint64_t val, bool big)
{
	for (unsigned i = 0; i < bytes && pos + i < b->len; i++) {
		unsigned shift = big ? 8 * (bytes - 1 - i) : 8 * i;
		b->p[pos + i] = (uint8_t)(val >> shift);
	}
}

static uint64_t get_field(const struct buf *b, size_t pos, unsigned bytes, bool big)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && pos + i < b->len; i++) {
		unsigned shift = big ? 8 * (bytes - 1 - i) : 8 * i;
		v |= (uint64_t)b->p[pos + i] << shift;
	}
	return v;
}

static void mutate(const struct seed *s, struct buf *b)
{
	unsigned n = 1 + (unsigned)below(6);
	for (unsigned k = 0; k < n; k++) {
		size_t pos = pick(s, b);
		switch (below(9)) {
		case 0: /* bit flip */
			if (b->len)
				b->p[pos] ^= (uint8_t)(1u << below(8));
			break;
		case 1: /* a random byte */
			if (b->len)
				b->p[pos] = (uint8_t)rnd();
			break;
		case 2:
		case 3: { /* a 32-bit field */
			bool big = below(2);
			pos &= ~(size_t)3;
			put_field(b, pos, 4, boundary(b, get_field(b, pos, 4, big)), big);
			break;
		}
		case 4:
		case 5: { /* a 64-bit field */
			bool big = below(2);
			pos &= ~(size_t)7;
			put_field(b, pos, 8, boundary(b, get_field(b, pos, 8, big)), big);
			break;
		}
		case 6: { /* insert bytes */
			size_t add = 1 + below(below(2) ? 16 : 4096);
			if (b->len + add > b->cap)
				break;
			memmove(b->p + pos + add, b->p + pos, b->len - pos);
			for (size_t i = 0; i < add; i++)
				b->p[pos + i] = (uint8_t)rnd();
			b->len += add;
			break;
		}
		case 7: { /* remove bytes, or cut the file short */
			if (below(4) == 0) {
				b->len = pos;
				break;
			}
			size_t del = 1 + below(below(2) ? 16 : 4096);
			if (del > b->len - pos)
				del = b->len - pos;
			memmove(b->p + pos, b->p + pos + del, b->len - pos - del);
			b->len -= del;
			break;
		}
		default: { /* copy a piece over another (duplicate headers, tables) */
			size_t from = pick(s, b), len = 1 + below(512);
			if (from + len > b->len || pos + len > b->len)
				break;
			memmove(b->p + pos, b->p + from, len);
			break;
		}
		}
	}
}

/* --- one input -------------------------------------------------------------- */

struct stats {
	uint64_t iterations, refused, opened_ro, opened_rw, bad_reads, writes_ok, checks, problems,
	    mismatches;
};

static int write_file(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	while (done < b->len) {
		ssize_t n = write(fd, b->p + done, b->len - done);
		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

/* The message of a refused open must name the file. */
static int refused_well(const char *path, const char *err, int r)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (r >= 0)
		return 0;
	if (!err[0] || !strstr(err, base)) {
		fprintf(stderr,
			"fuzz: block_open refused %s (%s) with the message '%s', which "
			"does not name the file\n",
			path, strerror(-r), err);
		return -1;
	}
	return 0;
}

static void read_some(struct block_dev *bd, uint8_t *buf, struct stats *st)
{
	uint64_t size = block_size(bd), budget = READ_BUDGET;
	/* Every sector of the first part, then pieces anywhere. */
	for (uint64_t off = 0; off < size && budget >= PIECE && off < READ_BUDGET / 2;
	     off += PIECE) {
		size_t n = size - off < PIECE ? (size_t)(size - off) : PIECE;
		if (block_pread(bd, buf, n, off) < 0)
			st->bad_reads++;
		budget -= PIECE;
	}
	while (budget >= PIECE && size > READ_BUDGET / 2) {
		uint64_t off = below(size / BLOCK_SECTOR) * BLOCK_SECTOR;
		size_t n = size - off < PIECE ? (size_t)(size - off) : PIECE;
		n = n - (size_t)below(n / BLOCK_SECTOR) * BLOCK_SECTOR;
		if (block_pread(bd, buf, n, off) < 0)
			st->bad_reads++;
		budget -= PIECE;
	}
}

static void check_report(void *opaque, const char *line)
{
	(void)opaque;
	(void)line;
}

static int one_input(const char *path, const char *format, struct stats *st, uint8_t *buf,
		     uint8_t *buf2)
{
	char err[PATH_MAX + 512];
	struct block_dev *bd;
	struct block_info *info = malloc(sizeof(*info));
	if (!info)
		return -1;

	err[0] = 0;
	int r = block_open(path, format, BLOCK_RDONLY, &bd, err, sizeof(err));
	if (r < 0) {
		st->refused++;
		free(info);
		return refused_well(path, err, r);
	}
	st->opened_ro++;
	block_get_info(bd, info);
	read_some(bd, buf, st);
	struct block_check res = {.report = check_report};
	block_check(bd, false, &res);
	st->checks++;
	st->problems += res.corruptions + res.leaks;
	block_close(bd);

	err[0] = 0;
	r = block_open(path, format, 0, &bd, err, sizeof(err));
	if (r < 0) {
		free(info);
		return refused_well(path, err, r);
	}
	st->opened_rw++;
	block_get_info(bd, info);
	uint64_t size = block_size(bd);
	for (unsigned i = 0; i < 4 && size >= 4096; i++) {
		uint64_t off = below(size / 4096) * 4096;
		if (i == 0)
			off = 0;
		for (unsigned j = 0; j < 4096; j++)
			buf[j] = (uint8_t)(off + j * 7 + i);
		if (block_pwrite(bd, buf, 4096, off) == 0) {
			st->writes_ok++;
			if (block_pread(bd, buf2, 4096, off) == 0 && memcmp(buf, buf2, 4096))
				st->mismatches++;
		}
	}
	block_flush(bd);
	read_some(bd, buf, st);
	memset(&res, 0, sizeof(res));
	res.report = check_report;
	block_check(bd, below(2), &res);
	st->checks++;
	block_close(bd);
	free(info);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},     {"format", required_argument, NULL, 'f'},
	    {"seconds", required_argument, NULL, 's'}, {"iterations", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 'S'},    {0},
	};
	const char *dir = NULL, *format = NULL;
	double seconds = 20;
	uint64_t max_iter = UINT64_MAX;
	run_seed = 0x05105eed;
	int c;
	while ((c = getopt_long(argc, argv, "d:f:s:n:S:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'n':
			max_iter = strtoull(optarg, NULL, 0);
			break;
		case 'S':
			run_seed = strtoull(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	const char *env = getenv("OSIO_FUZZ_SEED");
	if (env && *env)
		run_seed = strtoull(env, NULL, 0);
	if (!dir || optind >= argc) {
		fprintf(stderr, "usage: fuzz --dir DIR [--format F] [--seconds N] [--iterations N] "
				"[--seed S] SEED...\n");
		return 2;
	}
	size_t nseeds = (size_t)(argc - optind);
	struct seed *seeds = calloc(nseeds, sizeof(*seeds));
	if (!seeds)
		return 1;
	size_t maxlen = 0;
	for (size_t i = 0; i < nseeds; i++) {
		if (load_seed(argv[optind + (int)i], &seeds[i]) < 0)
			return 1;
		if (seeds[i].len > maxlen)
			maxlen = seeds[i].len;
	}
	const char *ext = format ? format : "img";
	snprintf(current, sizeof(current), "%s/current.%s", dir, ext);

	struct buf b = {.cap = maxlen + 64 * 4096};
	b.p = malloc(b.cap);
	uint8_t *rbuf = malloc(PIECE), *rbuf2 = malloc(PIECE);
	if (!b.p || !rbuf || !rbuf2)
		return 1;
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(say_where);
	signal(SIGALRM, on_alarm);

	printf("fuzz: seed %" PRIu64 ", %zu seed images, format %s, %.0f s\n", run_seed, nseeds,
	       format ? format : "(recognized)", seconds);
	fflush(stdout);
	rng_state = run_seed * 0x9e3779b97f4a7c15ull + 1;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct stats st = {0};
	int status = 0;
	for (iteration = 0; iteration < max_iter; iteration++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		double el =
		    (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (el >= seconds)
			break;
		const struct seed *s = &seeds[below(nseeds)];
		memcpy(b.p, s->data, s->len);
		b.len = s->len;
		mutate(s, &b);
		if (write_file(current, &b) < 0) {
			fprintf(stderr, "fuzz: cannot write %s\n", current);
			status = 1;
			break;
		}
		/* Half the time the format is recognized from the contents. */
		const char *f = format && below(2) ? format : NULL;
		alarm(HANG_SECONDS);
		if (one_input(current, f, &st, rbuf, rbuf2) < 0) {
			say_where();
			status = 1;
			break;
		}
		alarm(0);
		st.iterations++;
	}
	if (!status)
		printf("fuzz: %" PRIu64 " inputs: %" PRIu64 " refused, %" PRIu64
		       " opened read-only, %" PRIu64 " read-write; %" PRIu64
		       " failed reads, %" PRIu64 " writes, %" PRIu64
		       " read back differently, %" PRIu64 " checks found %" PRIu64 " problems\n",
		       st.iterations, st.refused, st.opened_ro, st.opened_rw, st.bad_reads,
		       st.writes_ok, st.mismatches, st.checks, st.problems);
	for (size_t i = 0; i < nseeds; i++) {
		free(seeds[i].data);
		free(seeds[i].hot);
	}
	free(seeds);
	free(b.p);
	free(rbuf);
	free(rbuf2);
	return status;
}
