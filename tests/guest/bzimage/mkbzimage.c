/* Build-time tool of the bzImage test guest: joins setup sectors and protected-mode part into a
 * bzImage (setup_sects, syssize, init_size, image CRC), and makes the test initrd. */
#include "bootparam.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETUP_MAX  (64 * 512)
#define KERNEL_MAX (4u << 20)

/* Bitwise CRC-32 (ISO-HDLC): deliberately not the guest's table-driven code. */
static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Reads a whole file of at most max bytes into a new buffer; -errno. */
static int read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n;
	int err;

	if (!f) {
		err = -errno;
		fprintf(stderr, "mkbzimage: %s: %s\n", path, strerror(errno));
		return err;
	}
	buf = malloc(max + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		err = -EIO;
		fprintf(stderr, "mkbzimage: %s: read error\n", path);
		goto out;
	}
	if (n > max) {
		err = -EFBIG;
		fprintf(stderr, "mkbzimage: %s: larger than %zu bytes\n", path, max);
		goto out;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	err = 0;
out:
	free(buf);
	fclose(f);
	return err;
}

static int write_file(const char *path, const uint8_t *a, size_t alen, const uint8_t *b,
		      size_t blen)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		fprintf(stderr, "mkbzimage: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen)) {
		fprintf(stderr, "mkbzimage: %s: write error\n", path);
		fclose(f);
		return -EIO;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "mkbzimage: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int make_image(const char *setup_path, const char *kernel_path, const char *out_path)
{
	uint8_t *setup = NULL, *kernel = NULL, *info;
	size_t slen, klen, padded;
	uint32_t crc_len, mem_size, syssize, sects;
	int err;

	err = read_file(setup_path, SETUP_MAX, &setup, &slen);
	if (err)
		goto out;
	err = read_file(kernel_path, KERNEL_MAX, &kernel, &klen);
	if (err)
		goto out;
	err = -EINVAL;
	if (slen < HDR_END || get32(setup + HDR_MAGIC) != HDR_MAGIC_VALUE ||
	    setup[HDR_BOOT_FLAG] != 0x55 || setup[HDR_BOOT_FLAG + 1] != 0xaa) {
		fprintf(stderr, "mkbzimage: %s: no setup header (HdrS, 0xaa55)\n", setup_path);
		goto out;
	}
	if (HDR_MAGIC + setup[HDR_JUMP + 1] != HDR_END) {
		fprintf(stderr, "mkbzimage: %s: setup header ends at 0x%x, not 0x%x\n", setup_path,
			HDR_MAGIC + setup[HDR_JUMP + 1], HDR_END);
		goto out;
	}
	info = kernel + PM_IMAGE_INFO;
	if (klen < PM_STARTUP_64 || memcmp(info + II_MAGIC, "OSIOBZ01", 8) != 0) {
		fprintf(stderr, "mkbzimage: %s: no image_info at 0x%x\n", kernel_path,
			PM_IMAGE_INFO);
		goto out;
	}
	crc_len = get32(info + II_CRC_LEN);
	mem_size = get32(info + II_MEM_SIZE);
	if (crc_len < PM_IMAGE_INFO + II_SIZE || crc_len > klen || mem_size < klen) {
		fprintf(stderr, "mkbzimage: %s: image_info crc_len %u, mem_size %u, file %zu\n",
			kernel_path, crc_len, mem_size, klen);
		goto out;
	}

	/* Whole setup sectors; the boot sector is not counted in setup_sects. */
	padded = (slen + 511) & ~(size_t)511;
	sects = (uint32_t)(padded / 512 - 1);
	if (sects < 1 || sects > 255) {
		fprintf(stderr, "mkbzimage: %s: %u setup sectors\n", setup_path, sects);
		goto out;
	}
	memset(setup + slen, 0, padded - slen);
	syssize = (uint32_t)((klen + 15) / 16);
	setup[HDR_SETUP_SECTS] = (uint8_t)sects;
	put32(setup + HDR_SYSSIZE, syssize);
	put32(setup + HDR_INIT_SIZE, mem_size);

	put32(info + II_SETUP_SECTS, sects);
	put32(info + II_SYSSIZE, syssize);
	put32(info + II_CRC, 0);
	put32(info + II_CRC, crc32_bitwise(0, kernel, crc_len));
	err = write_file(out_path, setup, padded, kernel, klen);
out:
	free(setup);
	free(kernel);
	return err;
}

/* The initrd: size bytes of a xorshift32 stream; its words for the guest's command line go to
 * args_path. */
static int make_initrd(const char *out_path, const char *size_arg, const char *args_path)
{
	char *end, words[128];
	unsigned long size = strtoul(size_arg, &end, 0);
	uint32_t x = 0x12345678, crc;
	uint8_t *buf;
	int err;

	if (*end || size == 0 || size > (64ul << 20)) {
		fprintf(stderr, "mkbzimage: initrd size '%s': give 1 byte to 64 MiB\n", size_arg);
		return -EINVAL;
	}
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	for (unsigned long i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)(x >> 24);
	}
	crc = crc32_bitwise(0, buf, size);
	err = write_file(out_path, buf, size, NULL, 0);
	if (!err) {
		int n = snprintf(words, sizeof(words), "initrd_size=%lu initrd_crc=0x%08x\n", size,
				 crc);

		err = write_file(args_path, (const uint8_t *)words, (size_t)n, NULL, 0);
	}
	free(buf);
	return err;
}

int main(int argc, char **argv)
{
	/* CRC-32 check value of the catalogue: the host side must be right too. */
	if (crc32_bitwise(0, (const uint8_t *)"123456789", 9) != 0xcbf43926) {
		fprintf(stderr, "mkbzimage: CRC-32 self-test failed\n");
		return 1;
	}
	if (argc == 5 && strcmp(argv[1], "image") == 0)
		return make_image(argv[2], argv[3], argv[4]) ? 1 : 0;
	if (argc == 5 && strcmp(argv[1], "initrd") == 0)
		return make_initrd(argv[2], argv[3], argv[4]) ? 1 : 0;
	fprintf(stderr, "usage: mkbzimage image SETUP.bin KERNEL.bin OUT-bzImage\n"
			"       mkbzimage initrd OUT SIZE OUT-args\n");
	return 2;
}
