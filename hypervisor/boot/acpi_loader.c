/* QEMU's ACPI table loader ("etc/table-loader") for SeaBIOS: the table set and
 * the RSDP as two files, and the commands that allocate, link and checksum them. */
#include "hypervisor/boot/acpi_loader.h"

#include "hypervisor/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TABLES_ALIGN 64 /* the FACS, at the set's start, must be 64-byte aligned */
#define RSDP_ALIGN   16 /* an OS scans for the RSDP on 16-byte boundaries */
#define RSDP_LEN     36

/* Command bytes: the u32 command, then the union (see acpi_loader.h). */
#define CMD_FILE	4
#define CMD_ALLOC_ALIGN 60
#define CMD_ALLOC_ZONE	64
#define CMD_PTR_SRC	60
#define CMD_PTR_OFFSET	116
#define CMD_PTR_SIZE	120
#define CMD_CK_OFFSET	60
#define CMD_CK_START	64
#define CMD_CK_LENGTH	68

struct commands {
	uint8_t *p;
	size_t n, max;
};

static uint8_t *command(struct commands *c, enum acpi_loader_command cmd, const char *file)
{
	if (c->n == c->max)
		return NULL; /* counted beforehand: cannot happen */
	uint8_t *e = c->p + c->n++ * ACPI_LOADER_ENTRY_SIZE;
	put_le32(e, cmd);
	strcpy((char *)e + CMD_FILE, file); /* the names are constants shorter than 56 */
	return e;
}

static void allocate(struct commands *c, const char *file, uint32_t align,
		     enum acpi_loader_zone zone)
{
	uint8_t *e = command(c, ACPI_LOADER_ALLOCATE, file);
	if (!e)
		return;
	put_le32(e + CMD_ALLOC_ALIGN, align);
	e[CMD_ALLOC_ZONE] = (uint8_t)zone;
}

static void add_pointer(struct commands *c, const char *dest, const char *src, uint32_t offset,
			uint8_t size)
{
	uint8_t *e = command(c, ACPI_LOADER_ADD_POINTER, dest);
	if (!e)
		return;
	strcpy((char *)e + CMD_PTR_SRC, src);
	put_le32(e + CMD_PTR_OFFSET, offset);
	e[CMD_PTR_SIZE] = size;
}

static void add_checksum(struct commands *c, const char *file, uint32_t offset, uint32_t start,
			 uint32_t length)
{
	uint8_t *e = command(c, ACPI_LOADER_ADD_CHECKSUM, file);
	if (!e)
		return;
	put_le32(e + CMD_CK_OFFSET, offset);
	put_le32(e + CMD_CK_START, start);
	put_le32(e + CMD_CK_LENGTH, length);
}

int acpi_build_loader(const struct acpi_machine *m, struct acpi_loader_blobs *out)
{
	memset(out, 0, sizeof(*out));
	struct acpi_set s;
	int r = acpi_set_build(&s, m);
	if (r < 0)
		return r;
	/* Two allocations, the set's pointers and checksums, the RSDP's two
	 * pointers and two checksums. */
	struct commands c = {.max = 2 + s.nptr + s.ntable + 4};
	c.p = calloc(c.max, ACPI_LOADER_ENTRY_SIZE);
	uint8_t *rsdp = calloc(1, RSDP_LEN);
	if (!c.p || !rsdp) {
		free(c.p);
		free(rsdp);
		acpi_set_free(&s);
		return -ENOMEM;
	}
	/* The RSDP's pointers hold offsets into the tables file, like the
	 * set's own; the loader adds the tables' address to each and then
	 * recomputes every checksum, so what the blobs hold there does not
	 * matter. */
	acpi_rsdp_fill(rsdp, s.rsdt, s.xsdt);

	allocate(&c, ACPI_TABLES_FILE, TABLES_ALIGN, ACPI_LOADER_ZONE_HIGH);
	allocate(&c, ACPI_RSDP_FILE, RSDP_ALIGN, ACPI_LOADER_ZONE_FSEG);
	/* A table's pointers are patched before its checksum is taken. */
	for (unsigned i = 0; i < s.nptr; i++)
		add_pointer(&c, ACPI_TABLES_FILE, ACPI_TABLES_FILE, s.ptr[i].off, s.ptr[i].size);
	for (unsigned i = 0; i < s.ntable; i++)
		add_checksum(&c, ACPI_TABLES_FILE, s.table[i].off + 9, s.table[i].off,
			     s.table[i].len);
	add_pointer(&c, ACPI_RSDP_FILE, ACPI_TABLES_FILE, 16, 4); /* RsdtAddress */
	add_pointer(&c, ACPI_RSDP_FILE, ACPI_TABLES_FILE, 24, 8); /* XsdtAddress */
	/* The 20-byte checksum first: the extended one covers it. */
	add_checksum(&c, ACPI_RSDP_FILE, 8, 0, 20);
	add_checksum(&c, ACPI_RSDP_FILE, 32, 0, RSDP_LEN);

	out->tables = s.blob; /* ownership moves to out */
	out->tables_size = s.size;
	out->rsdp = rsdp;
	out->rsdp_size = RSDP_LEN;
	out->loader = c.p;
	out->loader_size = c.n * ACPI_LOADER_ENTRY_SIZE;
	return 0;
}

void acpi_loader_free(struct acpi_loader_blobs *b)
{
	free(b->tables);
	free(b->rsdp);
	free(b->loader);
	memset(b, 0, sizeof(*b));
}
