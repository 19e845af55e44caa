/* Reconnecting a VHD differencing disk to its moved parent
 * (block_set_parent): new parent locators (a relative Windows path and an
 * absolute one) are appended in front of the footer at the end of the
 * file, then one write of the header (inside the file's first 4 KiB)
 * switches the parent's name, locator entries and checksum to them. The
 * format has no journal: a crash before that write leaves the old name and
 * a few unused sectors; the write itself is one sector-aligned write within
 * one 4 KiB block, as the header is written when the disk grows. */
#include "devices/block/vhd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOC_MAX 4096u /* bytes of one locator's data */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* One locator's data: a Windows path in UTF-16LE ('.\' in front of a
 * relative one), written into d (LOC_MAX bytes); its length or -EINVAL. */
static int windows_path(const char *path, bool relative, uint8_t d[LOC_MAX])
{
	char loc[PATH_MAX + 8];
	int n = snprintf(loc, sizeof(loc), "%s%s", relative && strncmp(path, "../", 3) ? ".\\" : "",
			 path);
	if (n < 0 || (size_t)n >= sizeof(loc))
		return -EINVAL;
	for (char *c = loc; *c; c++)
		if (*c == '/')
			*c = '\\';
	memset(d, 0, LOC_MAX);
	return block_utf8_to_utf16(loc, d, LOC_MAX, false, false);
}

/* Reads and checks the footer at the end and the dynamic header. */
static int read_child(int fd, uint64_t size, const char *path, uint8_t *footer, uint8_t *header,
		      uint64_t *header_off, char *err, size_t errlen)
{
	int r = size >= VHD_FOOTER_SIZE + VHD_HEADER_SIZE
		    ? block_file_pread(fd, footer, VHD_FOOTER_SIZE, size - VHD_FOOTER_SIZE)
		    : -EIO;
	if (r < 0 || memcmp(footer + VF_COOKIE, VHD_COOKIE, 8) != 0 ||
	    be32(footer + VF_CHECKSUM) != vhd_checksum(footer, VHD_FOOTER_SIZE, VF_CHECKSUM)) {
		snprintf(err, errlen,
			 "%s: the VHD footer at the end of the file is missing or damaged; run "
			 "osio disk check --repair %s first",
			 path, path);
		return -EINVAL;
	}
	if (be32(footer + VF_DISK_TYPE) != VHD_DIFF) {
		snprintf(err, errlen, "%s: not a differencing disk; it has no parent to reconnect",
			 path);
		return -EINVAL;
	}
	*header_off = be64(footer + VF_DATA_OFFSET);
	if (*header_off % 512 || *header_off > size - VHD_FOOTER_SIZE - VHD_HEADER_SIZE)
		r = -EINVAL;
	else
		r = block_file_pread(fd, header, VHD_HEADER_SIZE, *header_off);
	if (r < 0 || memcmp(header + VH_COOKIE, VHD_HDR_COOKIE, 8) != 0 ||
	    be32(header + VH_CHECKSUM) != vhd_checksum(header, VHD_HEADER_SIZE, VH_CHECKSUM)) {
		snprintf(err, errlen, "%s: the VHD dynamic disk header is damaged", path);
		return -EINVAL;
	}
	return 0;
}

int vhd_set_parent(const char *path, const char *name, struct block_dev *parent, bool force,
		   char *err, size_t errlen)
{
	int fd;
	struct stat st;
	int r = block_file_open(NULL, path, 0, &fd, &st, err, errlen);
	if (r < 0)
		return r;
	uint8_t footer[VHD_FOOTER_SIZE], header[VHD_HEADER_SIZE];
	uint8_t *data = calloc(2, LOC_MAX);
	uint64_t size = (uint64_t)st.st_size, hoff;
	if (!data) {
		r = -ENOMEM;
		goto out;
	}
	r = read_child(fd, size, path, footer, header, &hoff, err, errlen);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (parent->drv != &block_vhd_driver) {
		snprintf(err, errlen,
			 "%s: the parent of a VHD differencing disk is a VHD image, and %s is %s",
			 path, block_path(parent), block_format(parent));
		goto out;
	}
	const struct vhd *ps = parent->priv;
	bool same = memcmp(ps->footer + VF_UNIQUE_ID, header + VH_PARENT_ID, 16) == 0;
	if (!force && !same) {
		snprintf(err, errlen,
			 "%s: %s is not the disk it was made on (its unique ID is not the parent "
			 "ID this disk records); --force reconnects anyway, at the risk of reading "
			 "wrong data",
			 path, block_path(parent));
		goto out;
	}
	if (!force && block_size(parent) > be64(footer + VF_CUR_SIZE)) {
		snprintf(err, errlen,
			 "%s: %s is larger than this disk, so it is not the disk it was made on; "
			 "--force reconnects anyway",
			 path, block_path(parent));
		goto out;
	}
	/* The new header: name, ID, locators. */
	uint8_t h[VHD_HEADER_SIZE];
	memcpy(h, header, sizeof(h));
	memcpy(h + VH_PARENT_ID, ps->footer + VF_UNIQUE_ID, 16);
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	memset(h + VH_PARENT_NAME, 0, VH_PARENT_NAME_LEN);
	if (block_utf8_to_utf16(base, h + VH_PARENT_NAME, VH_PARENT_NAME_LEN, true, false) < 0) {
		snprintf(err, errlen, "%s: the parent's file name %s is too long for a VHD", path,
			 base);
		goto out;
	}
	char abs[PATH_MAX];
	if (!realpath(block_path(parent), abs))
		snprintf(abs, sizeof(abs), "%s", block_path(parent));
	memset(h + VH_LOCATORS, 0, VH_LOCATOR_SIZE * VH_NLOCATORS);
	uint64_t end = size - VHD_FOOTER_SIZE, at = end;
	unsigned k = 0;
	for (int rel = 1; rel >= 0; rel--) {
		if (rel && name[0] == '/')
			continue;
		uint8_t tmp[LOC_MAX];
		int len = windows_path(rel ? name : abs, rel, tmp);
		if (len <= 0) {
			snprintf(err, errlen, "%s: the parent's name %s is too long for a VHD",
				 path, rel ? name : abs);
			goto out;
		}
		uint32_t space = ((uint32_t)len + 511) & ~511u;
		uint8_t *l = h + VH_LOCATORS + VH_LOCATOR_SIZE * k;
		put32(l, rel ? VHD_PLAT_W2RU : VHD_PLAT_W2KU);
		put32(l + 4, space); /* bytes, as Hyper-V writes it */
		put32(l + 8, (uint32_t)len);
		vhd_put_be64(l + 16, at);
		memcpy(data + (at - end), tmp, (size_t)len); /* each at most LOC_MAX */
		at += space;
		k++;
	}
	vhd_header_seal(h);
	/* The footer at the new end first, then the locators where the old
	 * footer was: the file always ends with a valid footer. */
	r = block_file_pwrite(fd, footer, VHD_FOOTER_SIZE, at);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r == 0)
		r = block_file_pwrite(fd, data, at - end, end);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	/* The copy of the footer at offset 0 stays as it is (unchanged). */
	if (r == 0)
		r = block_file_pwrite(fd, h, VHD_HEADER_SIZE, hoff);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write the new parent locators: %s", path,
			 strerror(-r));
out:
	free(data);
	close(fd);
	return r;
}
