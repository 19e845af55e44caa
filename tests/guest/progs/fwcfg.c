/* fwcfg: QEMU's firmware configuration interface (QEMU docs/specs/fw_cfg)
 * through its ports and its DMA interface: signature, ID, CPU and RAM
 * counts, the file directory and etc/e820, DMA read/skip/partial reads,
 * reads past the end, and the error bit for a buffer outside RAM. */
#include "../lib/cmdline.h"
#include "../lib/io.h"
#include "../lib/memsize.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA	0x511
#define FW_CFG_DMA_HIGH 0x514
#define FW_CFG_DMA_LOW	0x518

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID	 0x01
#define FW_CFG_RAM_SIZE	 0x03
#define FW_CFG_NB_CPUS	 0x05
#define FW_CFG_FILE_DIR	 0x19

#define FW_CFG_VERSION_DMA 0x02

#define DMA_CTL_ERROR  0x01
#define DMA_CTL_READ   0x02
#define DMA_CTL_SKIP   0x04
#define DMA_CTL_SELECT 0x08

#define E820_RAM 1
#define MAX_E820 16
/* Not RAM in any layout (RAM below 4 GiB ends at 3.5 GiB at most) and no
 * device there on either VMM. */
#define NOT_RAM_ADDR 0xe0000000u

struct dma_access {
	u32 control, length; /* big-endian */
	u64 address;	     /* big-endian */
} __attribute__((packed, aligned(16)));

struct e820_entry {
	u64 addr, len;
	u32 type;
} __attribute__((packed));

static struct dma_access dma;
static u8 port_copy[MAX_E820 * sizeof(struct e820_entry)];
static u8 dma_copy[sizeof(port_copy) + 16];

static void select_item(u16 key)
{
	outw(FW_CFG_SELECTOR, key);
}

static void read_ports(void *buf, u32 len)
{
	u8 *p = buf;

	while (len--)
		*p++ = inb(FW_CFG_DATA);
}

static u32 read_be32(void)
{
	u32 v;

	read_ports(&v, 4);
	return bswap32(v);
}

/* One DMA transfer; returns the final control word (0 on success). */
static u32 dma_transfer(u32 control, void *buf, u32 len)
{
	u64 desc = (uintptr_t)&dma;
	struct timeout t;
	u32 ctl;

	dma.control = bswap32(control);
	dma.length = bswap32(len);
	dma.address = bswap64((uintptr_t)buf);
	__asm__ volatile("" ::: "memory");
	/* The address register is big-endian: the high half first, the
	 * write of the low half starts the transfer. */
	outl(FW_CFG_DMA_HIGH, bswap32((u32)(desc >> 32)));
	outl(FW_CFG_DMA_LOW, bswap32((u32)desc));
	timeout_start(&t, 1000);
	do {
		__asm__ volatile("" ::: "memory");
		ctl = bswap32(*(volatile u32 *)&dma.control);
	} while ((ctl & ~DMA_CTL_ERROR) && !timeout_expired(&t));
	return ctl;
}

static bool find_file(const char *name, u16 *key, u32 *size, u32 *count)
{
	bool found = false;

	select_item(FW_CFG_FILE_DIR);
	*count = read_be32();
	for (u32 i = 0; i < *count && i < 1024; i++) {
		struct {
			u32 size;
			u16 select, reserved;
			char name[56];
		} __attribute__((packed)) f;

		read_ports(&f, sizeof(f));
		f.name[55] = '\0';
		if (!found && strcmp(f.name, name) == 0) {
			found = true;
			*key = bswap16(f.select);
			*size = bswap32(f.size);
		}
	}
	return found;
}

static void identity(u64 mem, u64 cpus)
{
	char sig[5] = {0}, dma_sig[9] = {0};
	u32 id, hi, lo;
	u16 nb_cpus;
	u64 ram;

	select_item(FW_CFG_SIGNATURE);
	read_ports(sig, 4);
	check(strcmp(sig, "QEMU") == 0, "signature through the data port is \"QEMU\" (\"%s\")",
	      sig);

	select_item(FW_CFG_ID);
	read_ports(&id, 4);
	printf("peer: ID 0x%x\n", id);
	check(id & FW_CFG_VERSION_DMA, "ID has the DMA interface bit (bit 1)");

	hi = bswap32(inl(FW_CFG_DMA_HIGH));
	lo = bswap32(inl(FW_CFG_DMA_LOW));
	for (int i = 0; i < 4; i++) {
		dma_sig[i] = (char)(hi >> (24 - 8 * i));
		dma_sig[4 + i] = (char)(lo >> (24 - 8 * i));
	}
	for (int i = 0; i < 8; i++)
		if (dma_sig[i] < 0x20 || dma_sig[i] > 0x7e)
			dma_sig[i] = '?';
	check(strcmp(dma_sig, "QEMU CFG") == 0,
	      "the DMA address register reads \"QEMU CFG\" (\"%s\")", dma_sig);

	select_item(FW_CFG_NB_CPUS);
	read_ports(&nb_cpus, 2);
	check(nb_cpus == cpus, "NB_CPUS is %u, cpus=%u", nb_cpus, (u32)cpus);

	select_item(FW_CFG_RAM_SIZE);
	read_ports(&ram, 8);
	check(ram == mem, "RAM_SIZE is %llu MiB, mem= is %llu MiB", ram >> 20, mem >> 20);
}

static void e820(u64 mem)
{
	u16 key = 0;
	u32 size = 0, count = 0, n, ctl;
	u64 usable = 0, high = 0;
	bool disjoint = true;

	if (!check(find_file("etc/e820", &key, &size, &count), "the file directory has etc/e820"))
		return;
	printf("peer: %u files in the directory; etc/e820 is key 0x%x, %u bytes\n", count, key,
	       size);
	if (!check(size > 0 && size <= sizeof(port_copy) && size % sizeof(struct e820_entry) == 0,
		   "etc/e820 holds whole 20-byte entries (up to %u)", MAX_E820))
		return;
	n = size / sizeof(struct e820_entry);

	select_item(key);
	read_ports(port_copy, size);
	check(inb(FW_CFG_DATA) == 0 && inb(FW_CFG_DATA) == 0,
	      "data port reads past the end of the item give zeros");
	for (u32 i = 0; i < n; i++) {
		struct e820_entry e;

		memcpy(&e, port_copy + i * sizeof(e), sizeof(e));
		printf("peer: e820 %llx-%llx type %u\n", e.addr, e.addr + e.len - 1, e.type);
		if (e.type == E820_RAM) {
			usable += e.len;
			if (e.addr >= HIGHMEM_START)
				high += e.len;
		}
		/* QEMU's table is not sorted: compare every pair. */
		for (u32 j = 0; j < i; j++) {
			struct e820_entry o;

			memcpy(&o, port_copy + j * sizeof(o), sizeof(o));
			if (e.addr < o.addr + o.len && o.addr < e.addr + e.len)
				disjoint = false;
		}
	}
	check(usable == mem, "the usable etc/e820 entries add up to %llu KiB, mem= is %llu KiB",
	      usable >> 10, mem >> 10);
	check(high == ram_above_4g(mem), "usable RAM above 4 GiB is %llu MiB", high >> 20);
	check(disjoint, "no two entries overlap");

	/* The same item through DMA: select + read in one descriptor, asking
	 * for 16 bytes more than there are (they must read as zero). */
	memset(dma_copy, 0xaa, sizeof(dma_copy));
	ctl = dma_transfer((u32)key << 16 | DMA_CTL_SELECT | DMA_CTL_READ, dma_copy, size + 16);
	check(ctl == 0, "DMA select + read completed (control 0x%x)", ctl);
	check(memcmp(dma_copy, port_copy, size) == 0, "DMA read the same %u bytes as the ports",
	      size);
	n = 0;
	for (u32 i = size; i < size + 16; i++)
		n += dma_copy[i] != 0;
	check(n == 0, "DMA reads past the end of the item give zeros (%u bytes were not)", n);

	/* Skip 4, then two partial reads that continue where the last one
	 * ended. */
	memset(dma_copy, 0xaa, sizeof(dma_copy));
	ctl = dma_transfer((u32)key << 16 | DMA_CTL_SELECT | DMA_CTL_SKIP, NULL, 4);
	ctl |= dma_transfer(DMA_CTL_READ, dma_copy, 7);
	ctl |= dma_transfer(DMA_CTL_READ, dma_copy + 7, 9);
	check(ctl == 0 && memcmp(dma_copy, port_copy + 4, 16) == 0 && dma_copy[16] == 0xaa,
	      "DMA skip 4, read 7, read 9 give bytes 4-19 of the item");

	/* The data port continues after DMA: select, DMA skip 2, port read. */
	ctl = dma_transfer((u32)key << 16 | DMA_CTL_SELECT | DMA_CTL_SKIP, NULL, 2);
	check(ctl == 0 && inb(FW_CFG_DATA) == port_copy[2],
	      "a port read after a DMA skip of 2 returns byte 2");

	/* A buffer outside RAM: the device sets the error bit. */
	ctl = dma_transfer((u32)key << 16 | DMA_CTL_SELECT | DMA_CTL_READ,
			   (void *)(uintptr_t)NOT_RAM_ADDR, 16);
	check(ctl & DMA_CTL_ERROR, "DMA into 0x%x (not RAM) sets the error bit (control 0x%x)",
	      NOT_RAM_ADDR, ctl);
	ctl = dma_transfer((u32)key << 16 | DMA_CTL_SELECT | DMA_CTL_READ, dma_copy, 4);
	check(ctl == 0 && memcmp(dma_copy, port_copy, 4) == 0, "the next DMA transfer works again");
}

void test_main(void)
{
	u64 mem, cpus;
	bool have_mem = arg_size("mem", &mem), have_cpus = arg_u64("cpus", &cpus);

	printf("fwcfg: fw_cfg at port 0x%x, DMA at 0x%x\n", FW_CFG_SELECTOR, FW_CFG_DMA_HIGH);
	if (!check(have_mem && have_cpus, "mem= and cpus= were given"))
		return;
	identity(mem, cpus);
	e820(mem);
}
