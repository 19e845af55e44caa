/* SMBIOS (DMTF DSP0134) tables describing the VM: system "osio", chassis,
 * processor, memory. SeaBIOS takes them from fw_cfg and adds its own BIOS
 * information (type 0); a directly booted kernel finds them in the BIOS
 * area. */
#include "hypervisor/boot/smbios.h"

#include "hypervisor/bytes.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_SYSTEM	   1
#define TYPE_CHASSIS	   3
#define TYPE_PROCESSOR	   4
#define TYPE_MEMORY_ARRAY  16
#define TYPE_MEMORY_DEVICE 17
#define TYPE_ARRAY_MAPPED  19
#define TYPE_BOOT_INFO	   32
#define TYPE_END	   127

struct builder {
	uint8_t *p;
	size_t len, cap;
	unsigned count;
	unsigned max_struct;
	int err;
	size_t start;  /* of the structure being built */
	unsigned nstr; /* strings it has so far */
};

static uint8_t *grow(struct builder *b, size_t n)
{
	if (b->err)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	uint8_t *at = b->p + b->len;
	memset(at, 0, n);
	b->len += n;
	return at;
}

/* Starts a structure: its formatted area (len bytes, zeroed). Returns the
 * offset of the area (b->p moves as the buffer grows). */
static size_t begin(struct builder *b, uint8_t type, uint8_t len, uint16_t handle)
{
	b->start = b->len;
	b->nstr = 0;
	uint8_t *s = grow(b, len);
	if (s) {
		s[0] = type;
		s[1] = len;
		put_le16(s + 2, handle);
	}
	return b->start;
}

/* Appends a string to the current structure; returns its number (0 for an
 * empty string, which SMBIOS spells as "no string"). */
static uint8_t str(struct builder *b, const char *s)
{
	if (!s || !*s)
		return 0;
	size_t n = strlen(s) + 1;
	uint8_t *at = grow(b, n);
	if (at)
		memcpy(at, s, n);
	return (uint8_t)++b->nstr;
}

static void end(struct builder *b)
{
	/* The string set ends with an extra NUL (two when it is empty). */
	grow(b, b->nstr ? 1 : 2);
	size_t size = b->len - b->start;
	if (size > b->max_struct)
		b->max_struct = (unsigned)size;
	b->count++;
}

static uint8_t *at(struct builder *b, size_t off)
{
	return b->err ? NULL : b->p + off;
}

void smbios_uuid_from_name(const char *name, uint8_t uuid[16])
{
	/* Two FNV-1a passes with different bases: stable for one VM name. */
	uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
	for (const char *p = name; *p; p++) {
		h1 = (h1 ^ (uint8_t)*p) * 0x100000001b3ull;
		h2 = (h2 ^ (uint8_t)*p) * 0x100000001b3ull;
	}
	put_le64(uuid, h1);
	put_le64(uuid + 8, h2);
	/* SMBIOS stores the first three fields little-endian: the version
	 * nibble is the top of byte 7. */
	uuid[7] = (uint8_t)((uuid[7] & 0x0f) | 0x50); /* name-based, version 5 style */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

int smbios_build(const struct smbios_machine *m, uint64_t table_addr, struct smbios_tables *out)
{
	struct builder b = {0};
	memset(out, 0, sizeof(*out));
	size_t s;
	uint8_t *p;

	/* Type 1: system. The UUID's first three fields are little-endian
	 * in SMBIOS 2.6+, as in the guest's view of the UUID bytes. */
	s = begin(&b, TYPE_SYSTEM, 27, 0x0100);
	uint8_t man = str(&b, "osio");
	uint8_t prod = str(&b, "osio virtual machine (Generation 1)");
	uint8_t ver = str(&b, OSIO_VERSION);
	uint8_t serial = str(&b, m->name);
	uint8_t family = str(&b, "Virtual Machine");
	if ((p = at(&b, s))) {
		p[4] = man;
		p[5] = prod;
		p[6] = ver;
		p[7] = serial;
		memcpy(p + 8, m->uuid, 16);
		p[24] = 0x06; /* woken by the power switch */
		p[26] = family;
	}
	end(&b);

	/* Type 3: chassis, of type "other". */
	s = begin(&b, TYPE_CHASSIS, 22, 0x0300);
	man = str(&b, "osio");
	if ((p = at(&b, s))) {
		p[4] = man;
		p[5] = 0x01;
		p[9] = p[10] = p[11] = 0x03; /* boot-up, power, thermal: safe */
		p[12] = 0x02;		     /* security: unknown */
	}
	end(&b);

	/* Type 4: one package with all vCPUs as cores. */
	s = begin(&b, TYPE_PROCESSOR, 42, 0x0400);
	uint8_t sock = str(&b, "CPU 0");
	man = str(&b, m->cpu_vendor);
	if ((p = at(&b, s))) {
		unsigned cores = m->cpus > 255 ? 255 : m->cpus;
		p[4] = sock;
		p[5] = 0x03; /* central processor */
		p[6] = 0x01; /* family: other */
		p[7] = man;
		put_le32(p + 8, m->cpuid_eax);
		put_le32(p + 12, m->cpuid_edx);
		put_le16(p + 20, 2000); /* max speed, MHz: unknown in a VM */
		put_le16(p + 22, 2000);
		p[24] = 0x41; /* socket populated, CPU enabled */
		p[25] = 0x01;
		put_le16(p + 26, 0xffff);
		put_le16(p + 28, 0xffff);
		put_le16(p + 30, 0xffff);
		p[35] = p[36] = p[37] = (uint8_t)cores;
		put_le16(p + 38, 0x0004); /* 64-bit capable */
		put_le16(p + 40, 0x0001);
	}
	end(&b);

	/* Types 16, 17, 19: the memory. */
	uint64_t ram = m->ram_below_4g + m->ram_above_4g;
	uint64_t kib = ram >> 10;
	s = begin(&b, TYPE_MEMORY_ARRAY, 23, 0x1000);
	if ((p = at(&b, s))) {
		p[4] = 0x01; /* location: other */
		p[5] = 0x03; /* system memory */
		p[6] = 0x06; /* error correction: multi-bit ECC, as QEMU says */
		if (kib < 0x80000000ull) {
			put_le32(p + 7, (uint32_t)kib);
		} else {
			put_le32(p + 7, 0x80000000u);
			put_le64(p + 15, ram);
		}
		put_le16(p + 11, 0xfffe); /* no error information */
		put_le16(p + 13, 1);
	}
	end(&b);

	s = begin(&b, TYPE_MEMORY_DEVICE, 40, 0x1100);
	uint8_t loc = str(&b, "DIMM 0");
	man = str(&b, "osio");
	if ((p = at(&b, s))) {
		uint64_t mib = ram >> 20;
		put_le16(p + 4, 0x1000);
		put_le16(p + 6, 0xfffe);
		put_le16(p + 8, 0xffff); /* widths unknown */
		put_le16(p + 10, 0xffff);
		if (mib < 0x7fff) {
			put_le16(p + 12, (uint16_t)mib);
		} else {
			put_le16(p + 12, 0x7fff);
			put_le32(p + 28, (uint32_t)mib);
		}
		p[14] = 0x09; /* DIMM */
		p[16] = loc;
		p[18] = 0x07; /* RAM */
		put_le16(p + 19, 0x0002);
		p[23] = man;
	}
	end(&b);

	for (unsigned i = 0; i < 2; i++) {
		uint64_t start = i == 0 ? 0 : HIGHMEM_START;
		uint64_t size = i == 0 ? m->ram_below_4g : m->ram_above_4g;
		if (!size)
			continue;
		s = begin(&b, TYPE_ARRAY_MAPPED, 31, (uint16_t)(0x1300 + i));
		if ((p = at(&b, s))) {
			uint64_t first = start >> 10, last = (start + size - 1) >> 10;
			if (last < 0xffffffffull) {
				put_le32(p + 4, (uint32_t)first);
				put_le32(p + 8, (uint32_t)last);
			} else {
				put_le32(p + 4, 0xffffffffu);
				put_le32(p + 8, 0xffffffffu);
				put_le64(p + 15, start);
				put_le64(p + 23, start + size - 1);
			}
			put_le16(p + 12, 0x1000);
			p[14] = 1;
		}
		end(&b);
	}

	begin(&b, TYPE_BOOT_INFO, 11, 0x2000); /* boot status 0: no errors */
	end(&b);
	begin(&b, TYPE_END, 4, 0x7f00);
	end(&b);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	if (b.len > 0xffff) {
		free(b.p);
		return -E2BIG;
	}

	/* The 2.1-style (32-bit) entry point, for SMBIOS 2.8. */
	uint8_t *ep = out->anchor;
	memcpy(ep, "_SM_", 4);
	ep[5] = SMBIOS_ANCHOR_SIZE;
	ep[6] = 2;
	ep[7] = 8;
	put_le16(ep + 8, (uint16_t)b.max_struct);
	memcpy(ep + 16, "_DMI_", 5);
	put_le16(ep + 22, (uint16_t)b.len);
	put_le32(ep + 24, (uint32_t)table_addr);
	put_le16(ep + 28, (uint16_t)b.count);
	ep[30] = 0x28;
	smbios_checksum(ep);
	out->tables = b.p;
	out->tables_size = b.len;
	return 0;
}

void smbios_checksum(uint8_t *ep)
{
	uint8_t sum = 0;
	ep[21] = 0;
	for (unsigned i = 16; i < SMBIOS_ANCHOR_SIZE; i++)
		sum = (uint8_t)(sum + ep[i]);
	ep[21] = (uint8_t)-sum;
	sum = 0;
	ep[4] = 0;
	for (unsigned i = 0; i < SMBIOS_ANCHOR_SIZE; i++)
		sum = (uint8_t)(sum + ep[i]);
	ep[4] = (uint8_t)-sum;
}

void smbios_free(struct smbios_tables *t)
{
	free(t->tables);
	memset(t, 0, sizeof(*t));
}
