/* mkmedia: builds and checks the boot-media tests' images (host side of ../boot/media.h):
 * fills the pattern file of an ISO that xorriso built, writes a bootable test disk, and checks a
 * disk after a guest program wrote its range. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../boot/media.h"

#define ISO_SECTOR 2048
#define PVD_LBA	   16

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkmedia patch-iso ISO\n"
		"       mkmedia disk OUT BOOT.bin SECTORS WRITE_LBA WRITE_COUNT\n"
		"       mkmedia check-disk IMAGE PRISTINE\n"
		"       mkmedia corrupt-iso ISO INDEX\n"
		"\n"
		"patch-iso   fills /%s of ISO (built by xorriso, all zero) with the\n"
		"            header and pattern sectors, and the header's digest\n"
		"disk        a 512-byte-sector disk: BOOT.bin from LBA 0, the header after it,\n"
		"            pattern sectors up to SECTORS; the guest may write\n"
		"            [WRITE_LBA, WRITE_LBA + WRITE_COUNT)\n"
		"check-disk  IMAGE must equal PRISTINE outside the header's write range and hold\n"
		"            the written pattern inside it\n"
		"corrupt-iso changes one word of pattern sector INDEX of a patched ISO (for the\n"
		"            tests that show the guest's checks fail)\n",
		MEDIA_PATTERN_FILE);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_at(int fd, void *buf, size_t len, off_t off, const char *path)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n == (ssize_t)len)
		return 0;
	fprintf(stderr, "mkmedia: %s: %s at offset %lld\n", path,
		n < 0 ? strerror(errno) : "short read", (long long)off);
	return -EIO;
}

static int write_at(int fd, const void *buf, size_t len, off_t off, const char *path)
{
	ssize_t n = pwrite(fd, buf, len, off);

	if (n == (ssize_t)len)
		return 0;
	fprintf(stderr, "mkmedia: %s: %s at offset %lld\n", path,
		n < 0 ? strerror(errno) : "short write", (long long)off);
	return -EIO;
}

/* Finds a file in the root directory of an ISO 9660 image: its first LBA and size. */
static int iso_find(int fd, const char *path, const char *name, uint32_t *lba, uint32_t *size)
{
	uint8_t pvd[ISO_SECTOR], dir[ISO_SECTOR];
	uint32_t root_lba, root_size;
	size_t nlen = strlen(name);

	if (read_at(fd, pvd, sizeof(pvd), (off_t)PVD_LBA * ISO_SECTOR, path))
		return -EIO;
	if (pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0) {
		fprintf(stderr, "mkmedia: %s: no ISO 9660 primary volume descriptor at LBA 16\n",
			path);
		return -EINVAL;
	}
	root_lba = le32(pvd + 156 + 2);
	root_size = le32(pvd + 156 + 10);
	for (uint32_t off = 0; off < root_size; off += ISO_SECTOR) {
		if (read_at(fd, dir, sizeof(dir), ((off_t)root_lba * ISO_SECTOR) + off, path))
			return -EIO;
		for (uint32_t i = 0; i < ISO_SECTOR && dir[i];) {
			uint8_t len = dir[i], id_len = i + 33 <= ISO_SECTOR ? dir[i + 32] : 0;
			if (len < 34 || i + len > ISO_SECTOR || 33u + id_len > len)
				break;
			const char *id = (const char *)&dir[i + 33];
			if (id_len >= nlen && memcmp(id, name, nlen) == 0 &&
			    (id_len == nlen || id[nlen] == ';')) {
				*lba = le32(&dir[i + 2]);
				*size = le32(&dir[i + 10]);
				return 0;
			}
			i += len;
		}
	}
	fprintf(stderr, "mkmedia: %s: no /%s in the root directory (was it built with it?)\n", path,
		name);
	return -ENOENT;
}

/* Computes the digest of every sector but the header's. */
static int digest_image(int fd, const char *path, struct media_header *h)
{
	uint32_t w[MEDIA_MAX_WORDS], nwords = h->sector_size / 4, s1, s2;

	h->digest = MEDIA_DIGEST_INIT;
	for (uint32_t lba = 0; lba < h->total_sectors; lba++) {
		if (lba == h->header_lba)
			continue;
		if (read_at(fd, w, h->sector_size, (off_t)lba * h->sector_size, path))
			return -EIO;
		media_sums(w, nwords, &s1, &s2);
		h->digest = media_fold(h->digest, s1, s2);
	}
	return 0;
}

static int write_pattern(int fd, const char *path, const struct media_header *h)
{
	uint32_t w[MEDIA_MAX_WORDS];

	for (uint32_t lba = h->pattern_lba; lba < h->pattern_lba + h->pattern_count; lba++) {
		media_fill_sector(w, h->sector_size / 4, MEDIA_MAGIC_PATTERN, lba);
		if (write_at(fd, w, h->sector_size, (off_t)lba * h->sector_size, path))
			return -EIO;
	}
	return 0;
}

static int write_header(int fd, const char *path, const struct media_header *h)
{
	uint8_t sector[MEDIA_MAX_SECTOR] = {0};

	memcpy(sector, h, sizeof(*h));
	return write_at(fd, sector, h->sector_size, (off_t)h->header_lba * h->sector_size, path);
}

static int file_size(int fd, const char *path, off_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "mkmedia: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	*size = st.st_size;
	return 0;
}

static int patch_iso(const char *path)
{
	struct media_header h = {.sector_size = ISO_SECTOR};
	uint32_t lba, size;
	off_t total;
	int fd = open(path, O_RDWR | O_CLOEXEC), err;

	if (fd < 0) {
		fprintf(stderr, "mkmedia: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	err = file_size(fd, path, &total);
	if (err)
		goto out;
	err = -EINVAL;
	if (total % ISO_SECTOR || total / ISO_SECTOR > UINT32_MAX) {
		fprintf(stderr,
			"mkmedia: %s: size %lld is not a whole number of 2048-byte sectors\n", path,
			(long long)total);
		goto out;
	}
	err = iso_find(fd, path, MEDIA_PATTERN_FILE, &lba, &size);
	if (err)
		goto out;
	err = -EINVAL;
	if (size < 2 * ISO_SECTOR || size % ISO_SECTOR) {
		fprintf(stderr, "mkmedia: %s: /%s must be at least 2 whole sectors (is %u bytes)\n",
			path, MEDIA_PATTERN_FILE, size);
		goto out;
	}
	memcpy(h.magic, MEDIA_HEADER_MAGIC, sizeof(h.magic));
	h.total_sectors = (uint32_t)(total / ISO_SECTOR);
	h.header_lba = lba;
	h.pattern_lba = lba + 1;
	h.pattern_count = size / ISO_SECTOR - 1;
	err = write_pattern(fd, path, &h);
	if (!err)
		err = write_header(fd, path, &h); /* zero, while the digest is computed */
	if (!err)
		err = digest_image(fd, path, &h);
	if (!err)
		err = write_header(fd, path, &h);
	if (!err)
		printf("mkmedia: %s: %u sectors, header at %u, %u pattern sectors, digest 0x%08x\n",
		       path, h.total_sectors, h.header_lba, h.pattern_count, h.digest);
out:
	close(fd);
	return err;
}

static bool parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

static int make_disk(const char *out, const char *boot, const char *sectors_s, const char *wlba_s,
		     const char *wcount_s)
{
	struct media_header h = {.sector_size = 512};
	uint8_t *image = NULL;
	uint32_t boot_sectors;
	off_t boot_size;
	int bfd, fd = -1, err = -EINVAL;

	memcpy(h.magic, MEDIA_HEADER_MAGIC, sizeof(h.magic));
	if (!parse_u32(sectors_s, &h.total_sectors) || !parse_u32(wlba_s, &h.write_lba) ||
	    !parse_u32(wcount_s, &h.write_count)) {
		fprintf(stderr, "mkmedia: SECTORS, WRITE_LBA and WRITE_COUNT must be numbers\n");
		return -EINVAL;
	}
	bfd = open(boot, O_RDONLY | O_CLOEXEC);
	if (bfd < 0) {
		fprintf(stderr, "mkmedia: cannot open the boot image %s: %s\n", boot,
			strerror(errno));
		return -errno;
	}
	err = file_size(bfd, boot, &boot_size);
	if (err)
		goto out;
	err = -EINVAL;
	if (boot_size < 512 || boot_size > 1024 * 1024) {
		fprintf(stderr, "mkmedia: %s: a boot image of %lld bytes? (512 B - 1 MiB)\n", boot,
			(long long)boot_size);
		goto out;
	}
	boot_sectors = (uint32_t)((boot_size + 511) / 512);
	h.header_lba = boot_sectors;
	h.pattern_lba = boot_sectors + 1;
	if (h.write_count == 0)
		h.write_lba = 0;
	if (h.total_sectors <= h.pattern_lba ||
	    (h.write_count &&
	     (h.write_lba < h.pattern_lba || h.write_lba + h.write_count > h.total_sectors ||
	      h.write_lba + h.write_count < h.write_lba))) {
		fprintf(stderr,
			"mkmedia: %u sectors cannot hold the %u-sector boot image, the header "
			"and a write range %u+%u inside the pattern\n",
			h.total_sectors, boot_sectors, h.write_lba, h.write_count);
		goto out;
	}
	h.pattern_count = h.total_sectors - h.pattern_lba;
	image = calloc(boot_sectors, 512);
	if (!image) {
		err = -ENOMEM;
		goto out;
	}
	err = read_at(bfd, image, (size_t)boot_size, 0, boot);
	if (err)
		goto out;
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "mkmedia: cannot create %s: %s\n", out, strerror(errno));
		goto out;
	}
	err = write_at(fd, image, (size_t)boot_sectors * 512, 0, out);
	if (!err)
		err = write_pattern(fd, out, &h);
	if (!err)
		err = write_header(fd, out, &h);
	if (!err)
		err = digest_image(fd, out, &h);
	if (!err)
		err = write_header(fd, out, &h);
	if (!err)
		printf("mkmedia: %s: %u sectors, boot image %u sectors, header at %u, write range "
		       "%u+%u, digest 0x%08x\n",
		       out, h.total_sectors, boot_sectors, h.header_lba, h.write_lba, h.write_count,
		       h.digest);
out:
	if (fd >= 0 && close(fd) < 0 && !err)
		err = -errno;
	if (err && fd >= 0)
		unlink(out);
	free(image);
	close(bfd);
	return err;
}

static int check_disk(const char *path, const char *pristine)
{
	struct media_header h;
	uint8_t a[512], b[512];
	uint32_t changed = 0, written_ok = 0, written_bad = 0, shown = 0;
	off_t size, psize;
	int fd = open(path, O_RDONLY | O_CLOEXEC), pfd = open(pristine, O_RDONLY | O_CLOEXEC);
	int err = -EINVAL;

	if (fd < 0 || pfd < 0) {
		fprintf(stderr, "mkmedia: cannot open %s: %s\n", fd < 0 ? path : pristine,
			strerror(errno));
		err = -errno;
		goto out;
	}
	if (file_size(fd, path, &size) || file_size(pfd, pristine, &psize))
		goto out;
	if (size != psize) {
		printf("FAIL: %s has %lld bytes, the original %lld\n", path, (long long)size,
		       (long long)psize);
		goto out;
	}
	if (read_at(pfd, a, 512, 0, pristine))
		goto out;
	/* The header sits after the boot image: find it in the original. */
	for (uint32_t lba = 1;; lba++) {
		if ((off_t)lba * 512 >= psize || lba > 2048) {
			printf("FAIL: %s holds no test-media header\n", pristine);
			goto out;
		}
		if (read_at(pfd, a, 512, (off_t)lba * 512, pristine))
			goto out;
		memcpy(&h, a, sizeof(h));
		if (memcmp(h.magic, MEDIA_HEADER_MAGIC, sizeof(h.magic)) == 0 &&
		    h.header_lba == lba)
			break;
	}
	for (uint32_t lba = 0; (off_t)lba * 512 < size; lba++) {
		if (read_at(fd, a, 512, (off_t)lba * 512, path) ||
		    read_at(pfd, b, 512, (off_t)lba * 512, pristine))
			goto out;
		if (lba - h.write_lba < h.write_count) {
			if (media_check_sector((const uint32_t *)a, 128, MEDIA_MAGIC_WRITTEN,
					       lba)) {
				written_ok++;
			} else {
				written_bad++;
				if (shown++ < 8)
					printf("FAIL: LBA %u in the write range lacks the written "
					       "pattern\n",
					       lba);
			}
		} else if (memcmp(a, b, 512) != 0) {
			changed++;
			if (shown++ < 8)
				printf("FAIL: LBA %u outside the write range changed\n", lba);
		}
	}
	if (h.write_count)
		printf("%s: check-disk: %u of %u sectors in the write range %u+%u written right, "
		       "%u sectors outside it changed\n",
		       changed || written_bad ? "FAIL" : "ok", written_ok, h.write_count,
		       h.write_lba, h.write_count, changed);
	else
		printf("%s: check-disk: no write range, %u sectors changed\n",
		       changed ? "FAIL" : "ok", changed);
	err = changed || written_bad ? 1 : 0;
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return err;
}

static int corrupt_iso(const char *path, const char *index_s)
{
	struct media_header h;
	uint8_t sector[ISO_SECTOR];
	uint32_t lba, size, index;
	int fd = open(path, O_RDWR | O_CLOEXEC), err;

	if (fd < 0) {
		fprintf(stderr, "mkmedia: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	err = iso_find(fd, path, MEDIA_PATTERN_FILE, &lba, &size);
	if (!err)
		err = read_at(fd, sector, sizeof(sector), (off_t)lba * ISO_SECTOR, path);
	if (err)
		goto out;
	memcpy(&h, sector, sizeof(h));
	err = -EINVAL;
	if (memcmp(h.magic, MEDIA_HEADER_MAGIC, sizeof(h.magic)) != 0) {
		fprintf(stderr, "mkmedia: %s: no test-media header (run patch-iso first)\n", path);
		goto out;
	}
	if (!parse_u32(index_s, &index) || index >= h.pattern_count) {
		fprintf(stderr, "mkmedia: INDEX must be below the %u pattern sectors\n",
			h.pattern_count);
		goto out;
	}
	lba = h.pattern_lba + index;
	err = read_at(fd, sector, sizeof(sector), (off_t)lba * ISO_SECTOR, path);
	if (err)
		goto out;
	sector[1000] ^= 0x5a; /* a word in the middle: only the sums can tell */
	err = write_at(fd, sector, sizeof(sector), (off_t)lba * ISO_SECTOR, path);
	if (!err)
		printf("mkmedia: %s: changed a byte of pattern sector %u (LBA %u)\n", path, index,
		       lba);
out:
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	int err;

	if (argc == 3 && strcmp(argv[1], "patch-iso") == 0)
		err = patch_iso(argv[2]);
	else if (argc == 7 && strcmp(argv[1], "disk") == 0)
		err = make_disk(argv[2], argv[3], argv[4], argv[5], argv[6]);
	else if (argc == 4 && strcmp(argv[1], "check-disk") == 0)
		err = check_disk(argv[2], argv[3]);
	else if (argc == 4 && strcmp(argv[1], "corrupt-iso") == 0)
		err = corrupt_iso(argv[2], argv[3]);
	else if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	} else {
		usage(stderr);
		return 2;
	}
	return err ? 1 : 0;
}
