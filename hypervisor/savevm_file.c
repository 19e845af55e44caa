/* Saved-state files on disk (savevm_file.h has the layout): writing one
 * crash-safely with guest RAM as a sparse image, and reading one back with
 * every header value checked before it is used. */
#include "hypervisor/savevm_file.h"

#include "hypervisor/bytes.h"
#include "hypervisor/fileio.h"
#include "hypervisor/guestmem.h"
#include "hypervisor/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PAGE	   GUESTMEM_PAGE
#define CPUS_MAX   4096
#define MEMORY_MAX (1ull << 46) /* 64 TiB */

enum {
	H_MAGIC = 0,
	H_FORMAT = 8,
	H_SIZE = 12,
	H_MEMORY = 16,
	H_BELOW = 24,
	H_ABOVE = 32,
	H_CPUS = 40,
	H_FLAGS = 44,
	H_SAVED_AT = 48,
	H_NAME = 56,
	H_STATE_OFF = 120,
	H_STATE_LEN = 128,
	H_DATA_OFF = 136,
	H_DATA_LEN = 144,
	H_TABLE_OFF = 152,
	H_TABLE_LEN = 160,
	H_STATE_CRC = 168,
	H_TABLE_CRC = 172,
	H_CRC = 176,
};

#define RUN_SIZE 16   /* a table entry: u64 offset, u64 length */
#define BATCH	 1024 /* iovecs per preadv/pwritev (IOV_MAX) */
/* A batch is written once it holds this much: one huge pwritev of a whole
 * guest's RAM took up to 8x longer here than the same bytes in 1 MiB writes
 * (scripts/bench-lifecycle). */
#define IOV_CAP (1ull << 20)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static uint32_t crc(uint32_t c, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len) {
		uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;
		c = (uint32_t)crc32(c, b, n);
		b += n;
		len -= n;
	}
	return c;
}

static uint32_t header_crc(const uint8_t *h)
{
	static const uint8_t zero[4];
	uint32_t c = crc(0, h, H_CRC);
	c = crc(c, zero, sizeof(zero));
	return crc(c, h + H_CRC + 4, SAVEVM_HEADER_SIZE - H_CRC - 4);
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	if (w[0] | w[PAGE / 16] | w[PAGE / 8 - 1])
		return false;
	uint64_t acc = 0;
	for (size_t i = 0; i < PAGE / 8; i += 8)
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		       w[i + 7];
	return acc == 0;
}

/* The writer's pass over RAM: non-zero pages gathered into iovecs written
 * in order at `off`, and the table of runs they make. */
struct ram_writer {
	int fd;
	uint64_t off; /* where the next batch goes */
	struct iovec iov[BATCH];
	int n;
	uint64_t batch_bytes;
	uint8_t *table;
	size_t table_len, table_cap;
	uint64_t data_len;
};

static int flush_batch(struct ram_writer *w)
{
	uint64_t bytes = 0;
	for (int i = 0; i < w->n; i++)
		bytes += w->iov[i].iov_len;
	int r = file_prw_iov_all(w->fd, w->iov, w->n, w->off, true);
	w->off += bytes;
	w->n = 0;
	w->batch_bytes = 0;
	return r;
}

/* One non-zero page at image offset `at`, at p in memory. */
static int add_page(struct ram_writer *w, uint8_t *p, uint64_t at, bool joins)
{
	struct iovec *last = w->n ? &w->iov[w->n - 1] : NULL;
	if (joins && last && (uint8_t *)last->iov_base + last->iov_len == p &&
	    last->iov_len < IOV_CAP) {
		last->iov_len += PAGE;
	} else {
		if (w->n == BATCH) {
			int r = flush_batch(w);
			if (r < 0)
				return r;
		}
		w->iov[w->n++] = (struct iovec){.iov_base = p, .iov_len = PAGE};
	}
	w->batch_bytes += PAGE;
	if (w->batch_bytes >= IOV_CAP) {
		int r = flush_batch(w);
		if (r < 0)
			return r;
	}
	if (joins && w->table_len &&
	    get_le64(w->table + w->table_len - RUN_SIZE) +
		    get_le64(w->table + w->table_len - RUN_SIZE + 8) ==
		at) {
		uint8_t *len = w->table + w->table_len - RUN_SIZE + 8;
		put_le64(len, get_le64(len) + PAGE);
	} else {
		if (w->table_len == w->table_cap) {
			size_t cap = w->table_cap ? w->table_cap * 2 : 64 * RUN_SIZE;
			uint8_t *t = realloc(w->table, cap);
			if (!t)
				return -ENOMEM;
			w->table = t;
			w->table_cap = cap;
		}
		put_le64(w->table + w->table_len, at);
		put_le64(w->table + w->table_len + 8, PAGE);
		w->table_len += RUN_SIZE;
	}
	w->data_len += PAGE;
	return 0;
}

/* [ram, ram+size), at image offset base. */
static int write_region(struct ram_writer *w, uint8_t *ram, uint64_t size, uint64_t base)
{
	bool joins = false; /* the page before was written, in this region */
	for (uint64_t at = 0; at < size; at += PAGE) {
		if (page_is_zero(ram + at)) {
			joins = false;
			continue;
		}
		int r = add_page(w, ram + at, base + at, joins);
		if (r < 0)
			return r;
		joins = true;
	}
	return 0;
}

static void build_header(uint8_t *h, const struct savevm_header *s)
{
	memset(h, 0, SAVEVM_HEADER_SIZE);
	memcpy(h + H_MAGIC, SAVEVM_MAGIC, 8);
	put_le32(h + H_FORMAT, SAVEVM_FORMAT);
	put_le32(h + H_SIZE, SAVEVM_HEADER_SIZE);
	put_le64(h + H_MEMORY, s->memory);
	put_le64(h + H_BELOW, s->ram_below_4g);
	put_le64(h + H_ABOVE, s->ram_above_4g);
	put_le32(h + H_CPUS, s->cpus);
	put_le64(h + H_SAVED_AT, s->saved_at);
	memcpy(h + H_NAME, s->vm_name, strnlen(s->vm_name, sizeof(s->vm_name) - 1));
	put_le64(h + H_STATE_OFF, s->state_offset);
	put_le64(h + H_STATE_LEN, s->state_len);
	put_le64(h + H_DATA_OFF, s->data_offset);
	put_le64(h + H_DATA_LEN, s->data_len);
	put_le64(h + H_TABLE_OFF, s->table_offset);
	put_le64(h + H_TABLE_LEN, s->table_len);
	put_le32(h + H_STATE_CRC, s->state_crc);
	put_le32(h + H_TABLE_CRC, s->table_crc);
	put_le32(h + H_CRC, header_crc(h));
}

static void write_error(const char *path, int r, uint64_t need, char *err, size_t errlen)
{
	if (r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
		snprintf(err, errlen,
			 "%s: not enough space for the saved state (up to %llu MiB): %s; free "
			 "some space and save again",
			 path, (unsigned long long)((need + (1u << 20) - 1) >> 20), strerror(-r));
	else
		snprintf(err, errlen, "%s: cannot write the saved state: %s", path, strerror(-r));
}

int savevm_file_write(const char *path, const char *vm_name, unsigned cpus, const void *state,
		      size_t state_len, const struct savevm_ram *ram, char *err, size_t errlen)
{
	if (!state_len || state_len > SAVEVM_STATE_MAX || !cpus || ram->low_size % PAGE ||
	    ram->high_size % PAGE) {
		snprintf(err, errlen, "%s: nothing sensible to save (%zu bytes of state)", path,
			 state_len);
		return -EINVAL;
	}
	struct savevm_header s = {
	    .ram_below_4g = ram->low_size,
	    .ram_above_4g = ram->high_size,
	    .memory = ram->low_size + ram->high_size,
	    .cpus = cpus,
	    .saved_at = (uint64_t)time(NULL),
	    .state_offset = SAVEVM_HEADER_SIZE,
	    .state_len = state_len,
	    .data_offset = align_up(SAVEVM_HEADER_SIZE + state_len, PAGE),
	    .state_crc = crc(0, state, state_len),
	};
	if (vm_name)
		snprintf(s.vm_name, sizeof(s.vm_name), "%s", vm_name);

	char dir[4096], tmp[4096 + 64];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	if (!*base || strlen(path) >= sizeof(dir) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", dir, base) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: not a usable file name for a saved state", path);
		return -EINVAL;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0 && store_system_mode())
		fchmod(fd, store_file_mode(0600));
	if (fd < 0) {
		int r = -errno;
		snprintf(err, errlen, "%s: cannot create the saved state in %s: %s", path, dir,
			 strerror(errno));
		return r;
	}
	uint8_t *h = calloc(1, SAVEVM_HEADER_SIZE);
	struct ram_writer *w = calloc(1, sizeof(*w));
	int r = h && w ? 0 : -ENOMEM;
	if (!r) {
		w->fd = fd;
		w->off = s.data_offset;
		r = file_pwrite_all(fd, state, state_len, s.state_offset);
	}
	if (!r && ram->low_size)
		r = write_region(w, ram->low, ram->low_size, 0);
	if (!r && ram->high_size)
		r = write_region(w, ram->high, ram->high_size, ram->low_size);
	if (!r)
		r = flush_batch(w);
	if (!r) {
		s.data_len = w->data_len;
		s.table_offset = s.data_offset + s.data_len;
		s.table_len = w->table_len;
		s.table_crc = crc(0, w->table, w->table_len);
		r = file_pwrite_all(fd, w->table, w->table_len, s.table_offset);
	}
	/* Without RAM data the state's padding is the file's end. */
	if (!r && ftruncate(fd, (off_t)(s.table_offset + s.table_len)) < 0)
		r = -errno;
	if (!r) {
		build_header(h, &s);
		r = file_pwrite_all(fd, h, SAVEVM_HEADER_SIZE, 0);
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	uint64_t need = s.data_offset + s.memory; /* at most: RAM with no zero page */
	free(h);
	if (w)
		free(w->table);
	free(w);
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r < 0) {
		write_error(path, r, need, err, errlen);
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot put the saved state in place: %s", path,
			 strerror(errno));
		goto fail;
	}
	if ((r = store_sync_dir(dir)) < 0) {
		snprintf(err, errlen, "%s: cannot sync its folder: %s", path, strerror(-r));
		return r;
	}
	return 0;
fail:
	unlink(tmp);
	return r;
}

/* --- reading ------------------------------------------------------------- */

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		r = -EINVAL;                                                                       \
		goto fail;                                                                         \
	} while (0)

static int check_header(struct savevm_file *f, const uint8_t *h, uint64_t size, char *err,
			size_t errlen)
{
	const char *path = f->path;
	struct savevm_header *s = &f->h;
	int r;
	if (memcmp(h + H_MAGIC, SAVEVM_MAGIC, 8) != 0)
		BAD("%s is not an osio saved-state file", path);
	if (get_le32(h + H_FORMAT) != SAVEVM_FORMAT)
		BAD("%s is a saved state of format %u; this osio reads format %u", path,
		    get_le32(h + H_FORMAT), SAVEVM_FORMAT);
	if (get_le32(h + H_CRC) != header_crc(h))
		BAD("%s is damaged: its header's checksum does not match", path);
	/* A header with a good checksum can still be made by hand: every
	 * value is checked on its own. */
	s->memory = get_le64(h + H_MEMORY);
	s->ram_below_4g = get_le64(h + H_BELOW);
	s->ram_above_4g = get_le64(h + H_ABOVE);
	s->cpus = get_le32(h + H_CPUS);
	s->saved_at = get_le64(h + H_SAVED_AT);
	s->state_offset = get_le64(h + H_STATE_OFF);
	s->state_len = get_le64(h + H_STATE_LEN);
	s->data_offset = get_le64(h + H_DATA_OFF);
	s->data_len = get_le64(h + H_DATA_LEN);
	s->table_offset = get_le64(h + H_TABLE_OFF);
	s->table_len = get_le64(h + H_TABLE_LEN);
	s->state_crc = get_le32(h + H_STATE_CRC);
	s->table_crc = get_le32(h + H_TABLE_CRC);
	memcpy(s->vm_name, h + H_NAME, sizeof(s->vm_name));
	if (get_le32(h + H_SIZE) != SAVEVM_HEADER_SIZE || get_le32(h + H_FLAGS) != 0)
		BAD("%s has a header of an unknown kind (size %u, flags 0x%x)", path,
		    get_le32(h + H_SIZE), get_le32(h + H_FLAGS));
	if (s->ram_below_4g % PAGE || s->ram_above_4g % PAGE || s->ram_below_4g > MEMORY_MAX ||
	    s->ram_above_4g > MEMORY_MAX || s->memory != s->ram_below_4g + s->ram_above_4g ||
	    s->memory == 0)
		BAD("%s is damaged: its memory sizes do not add up (%llu + %llu bytes, %llu in "
		    "all)",
		    path, (unsigned long long)s->ram_below_4g, (unsigned long long)s->ram_above_4g,
		    (unsigned long long)s->memory);
	if (s->cpus == 0 || s->cpus > CPUS_MAX)
		BAD("%s is damaged: it says the VM had %u vCPUs", path, s->cpus);
	if (s->vm_name[sizeof(s->vm_name) - 1] != 0)
		BAD("%s is damaged: the VM name in its header is not terminated", path);
	for (size_t i = 0; s->vm_name[i]; i++)
		if ((unsigned char)s->vm_name[i] < 0x20 || (unsigned char)s->vm_name[i] > 0x7e)
			BAD("%s is damaged: the VM name in its header is not printable", path);
	for (size_t i = strlen(s->vm_name); i < sizeof(s->vm_name); i++)
		if (s->vm_name[i])
			BAD("%s is damaged: there are bytes after the VM name in its header", path);
	/* The pieces follow one another to the end of the file; at most one
	 * run per page, and never more data than RAM. */
	if (s->state_offset != SAVEVM_HEADER_SIZE || s->state_len == 0 ||
	    s->state_len > SAVEVM_STATE_MAX ||
	    s->data_offset != align_up(s->state_offset + s->state_len, PAGE) ||
	    s->data_len % PAGE || s->data_len > s->memory ||
	    s->table_offset != s->data_offset + s->data_len || s->table_len % RUN_SIZE ||
	    s->table_len / RUN_SIZE > s->memory / PAGE || (s->table_len == 0) != (s->data_len == 0))
		BAD("%s is damaged: its header places the state at %llu (%llu bytes), the RAM "
		    "data at %llu (%llu bytes) and its table at %llu (%llu bytes)",
		    path, (unsigned long long)s->state_offset, (unsigned long long)s->state_len,
		    (unsigned long long)s->data_offset, (unsigned long long)s->data_len,
		    (unsigned long long)s->table_offset, (unsigned long long)s->table_len);
	uint64_t end = s->table_offset + s->table_len;
	if (size < end)
		BAD("%s is truncated: it has %llu bytes of the %llu its header promises ", path,
		    (unsigned long long)size, (unsigned long long)end);
	if (size > end)
		BAD("%s is damaged: it has %llu bytes after the end its header gives", path,
		    (unsigned long long)(size - end));
	return 0;
fail:
	return r;
}

/* The run table, checked whole before any RAM is touched. */
static int read_table(struct savevm_file *f, char *err, size_t errlen)
{
	const struct savevm_header *s = &f->h;
	const char *path = f->path;
	int r;
	f->table = malloc(s->table_len ? s->table_len : 1);
	if (!f->table) {
		snprintf(err, errlen, "%s: no memory for its RAM table", path);
		return -ENOMEM;
	}
	if ((r = file_pread_all(f->fd, f->table, s->table_len, s->table_offset)) < 0) {
		snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(-r));
		return r;
	}
	if (crc(0, f->table, s->table_len) != s->table_crc)
		BAD("%s is damaged: the checksum of its RAM table does not match", path);
	uint64_t next = 0, sum = 0;
	for (uint64_t i = 0; i < s->table_len; i += RUN_SIZE) {
		uint64_t at = get_le64(f->table + i), len = get_le64(f->table + i + 8);
		bool crosses = at < s->ram_below_4g && len > s->ram_below_4g - at;
		if (at % PAGE || len % PAGE || len == 0 || at < next || len > s->memory - at ||
		    at > s->memory || crosses)
			BAD("%s is damaged: run %llu of its RAM table (%llu bytes at %llu) is out "
			    "of "
			    "place",
			    path, (unsigned long long)(i / RUN_SIZE), (unsigned long long)len,
			    (unsigned long long)at);
		next = at + len;
		sum += len;
	}
	if (sum != s->data_len)
		BAD("%s is damaged: its RAM table accounts for %llu bytes of its %llu", path,
		    (unsigned long long)sum, (unsigned long long)s->data_len);
	return 0;
fail:
	return r;
}

int savevm_file_open(const char *path, struct savevm_file *f, bool header_only, char *err,
		     size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	snprintf(f->path, sizeof(f->path), "%s", path);
	uint8_t *h = NULL;
	int r;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		r = -errno;
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: no such saved state", path);
		else
			snprintf(err, errlen, "%s: cannot open the saved state: %s", path,
				 strerror(errno));
		goto fail;
	}
	struct stat st;
	if (fstat(f->fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode))
		BAD("%s is not a file, so not a saved state", path);
	f->allocated = (uint64_t)st.st_blocks * 512;
	if ((uint64_t)st.st_size < SAVEVM_HEADER_SIZE)
		BAD("%s is truncated or not a saved state: it has %llu bytes, less than a "
		    "saved-state header",
		    path, (unsigned long long)st.st_size);
	h = malloc(SAVEVM_HEADER_SIZE);
	if (!h) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((r = file_pread_all(f->fd, h, SAVEVM_HEADER_SIZE, 0)) < 0) {
		snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(-r));
		goto fail;
	}
	if ((r = check_header(f, h, (uint64_t)st.st_size, err, errlen)) < 0)
		goto fail;
	free(h);
	h = NULL;
	if (header_only)
		return 0;
	f->state = malloc(f->h.state_len);
	if (!f->state) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: no memory for its %llu bytes of state", path,
			 (unsigned long long)f->h.state_len);
		goto fail;
	}
	if ((r = file_pread_all(f->fd, f->state, f->h.state_len, f->h.state_offset)) < 0) {
		snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(-r));
		goto fail;
	}
	if (crc(0, f->state, f->h.state_len) != f->h.state_crc)
		BAD("%s is damaged: the checksum of its device and processor state does not match",
		    path);
	if ((r = read_table(f, err, errlen)) < 0)
		goto fail;
	return 0;
fail:
	free(h);
	savevm_file_close(f);
	return r;
}

void savevm_file_close(struct savevm_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->state);
	f->state = NULL;
	free(f->table);
	f->table = NULL;
}

/* Makes [p, p+len) read as zero, touching as little memory as it can:
 * private anonymous memory (guest RAM) is dropped, other memory cleared
 * where it is not zero already. */
static void zero_ram(uint8_t *p, uint64_t len)
{
	uintptr_t a = ((uintptr_t)p + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	uintptr_t b = ((uintptr_t)p + len) & ~(uintptr_t)(PAGE - 1);
	if (b > a && madvise((void *)a, b - a, MADV_DONTNEED) == 0) {
		memset(p, 0, a - (uintptr_t)p);
		memset((void *)b, 0, (uintptr_t)p + len - b);
		return;
	}
	for (uint64_t at = 0; at < len; at += PAGE) {
		uint64_t n = len - at < PAGE ? len - at : PAGE;
		if (n < PAGE || !page_is_zero(p + at))
			memset(p + at, 0, n);
	}
}

int savevm_file_read_ram(struct savevm_file *f, const struct savevm_ram *ram, char *err,
			 size_t errlen)
{
	if (ram->low_size != f->h.ram_below_4g || ram->high_size != f->h.ram_above_4g) {
		snprintf(err, errlen,
			 "%s holds %llu MiB of RAM below 4 GiB and %llu MiB above; the VM has "
			 "%llu and %llu MiB",
			 f->path, (unsigned long long)(f->h.ram_below_4g >> 20),
			 (unsigned long long)(f->h.ram_above_4g >> 20),
			 (unsigned long long)(ram->low_size >> 20),
			 (unsigned long long)(ram->high_size >> 20));
		return -EINVAL;
	}
	if (!f->table) {
		snprintf(err, errlen, "%s: opened without its RAM table", f->path);
		return -EINVAL;
	}
	if (ram->low_size)
		zero_ram(ram->low, ram->low_size);
	if (ram->high_size)
		zero_ram(ram->high, ram->high_size);
	posix_fadvise(f->fd, (off_t)f->h.data_offset, (off_t)f->h.data_len, POSIX_FADV_SEQUENTIAL);
	struct iovec *iov = malloc(BATCH * sizeof(*iov));
	if (!iov) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* The table was checked: every run lies inside low or high RAM. */
	uint64_t off = f->h.data_offset, batch = 0;
	int n = 0, r = 0;
	for (uint64_t i = 0; i < f->h.table_len && !r; i += RUN_SIZE) {
		uint64_t at = get_le64(f->table + i), len = get_le64(f->table + i + 8);
		uint8_t *dst =
		    at < ram->low_size ? ram->low + at : ram->high + (at - ram->low_size);
		iov[n++] = (struct iovec){.iov_base = dst, .iov_len = len};
		batch += len;
		if (n == BATCH || i + RUN_SIZE == f->h.table_len) {
			r = file_prw_iov_all(f->fd, iov, n, off, false);
			off += batch;
			batch = 0;
			n = 0;
		}
	}
	free(iov);
	if (r < 0) {
		if (r == -ENODATA)
			snprintf(err, errlen, "%s was truncated while it was being read", f->path);
		else
			snprintf(err, errlen, "%s: cannot read its RAM image: %s", f->path,
				 strerror(-r));
	}
	return r;
}
