/* The standard VGA's Bochs VBE modes from a guest program (vbe.h). */
#include "vbe.h"

#include "io.h"
#include "multiboot.h"
#include "pci.h"
#include "test.h"
#include "uart.h"

#define VGA_IS1	     0x3da /* reading it resets the attribute flip-flop */
#define VGA_AR_INDEX 0x3c0
#define VGA_AR_PAS   0x20

/* QEMU's "VGA" PCI function: vendor 0x1234, device 0x1111, class 0x0300 (VGA display). */
#define STDVGA_ID     0x11111234u
#define PCI_CLASS_VGA 0x0300u
#define BAR_MEM_MASK  0xfffffff0u
#define BAR_MEM_TYPE  0x06u /* bits 2:1: 0 = 32-bit, 2 = 64-bit */

u16 dispi_read(u16 index)
{
	outw(DISPI_INDEX, index);
	return inw(DISPI_DATA);
}

void dispi_write(u16 index, u16 v)
{
	outw(DISPI_INDEX, index);
	outw(DISPI_DATA, v);
}

/* Below the IOAPIC, where SeaBIOS puts the largest 32-bit BAR (the top of the PCI hole). */
#define PCI_HOLE_END 0xfec00000u

/* Places an unassigned memory BAR (a VMM that boots the kernel without firmware leaves them at
 * 0, as SeaBIOS would not) where the firmware would: its size aligned, just below the IOAPIC,
 * provided no region of the memory map is there. Returns the address or 0. */
static u32 assign_bar(struct pci_addr a, u8 off)
{
	u16 cmd = pci_read16(a, PCI_COMMAND);
	u32 size, base;

	/* Sizing with decoding off (PCI 3.0, 6.2.5.1). */
	pci_write16(a, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_write32(a, off, 0xffffffffu);
	size = ~(pci_read32(a, off) & BAR_MEM_MASK) + 1;
	/* Only failures print here: QEMU's firmware assigned the BAR, osio's direct boot did
	 * not, and the two outputs must stay the same. */
	if (size < 4096 || (size & (size - 1)) || size > 256 * MiB) {
		check(false, "the VGA's BAR0 sizes as a power of two, 4 KiB..256 MiB (0x%x)", size);
		return 0;
	}
	base = (PCI_HOLE_END - size) & ~(size - 1);
	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		if (r->base < (u64)base + size && r->base + r->len > base) {
			check(false, "0x%08x..0x%08x is free in the memory map for the framebuffer",
			      base, base + size - 1);
			return 0;
		}
	}
	pci_write32(a, off, base);
	printf("peer: BAR0 was unassigned: placed at 0x%08x (%u MiB)\n", base, size / MiB);
	return base;
}

u32 vbe_find_framebuffer(void)
{
	for (u8 dev = 0; dev < 32; dev++) {
		struct pci_addr a = {0, dev, 0};
		u32 id = pci_read32(a, PCI_VENDOR_ID), bar, base;

		if (id != STDVGA_ID || (pci_read32(a, PCI_CLASS_REVISION) >> 16) != PCI_CLASS_VGA)
			continue;
		bar = pci_read32(a, PCI_BAR0);
		printf("peer: standard VGA at 00:%02x.0, BAR0 0x%08x\n", dev, bar);
		if (!check(!(bar & 1) && (bar & BAR_MEM_TYPE) == 0,
			   "the VGA's BAR0 is a 32-bit memory BAR"))
			return 0;
		base = bar & BAR_MEM_MASK;
		if (!base && !(base = assign_bar(a, PCI_BAR0)))
			return 0;
		pci_write16(a, PCI_COMMAND, pci_read16(a, PCI_COMMAND) | PCI_COMMAND_MEMORY);
		return base;
	}
	check(false, "a standard VGA (1234:1111) on PCI bus 0");
	return 0;
}

/* Sets w x h x 32 with the linear framebuffer and video on. */
bool vbe_set_mode(u32 w, u32 h)
{
	u16 id = dispi_read(DISPI_ID);

	if (!check((id & 0xfff0) == DISPI_ID0, "Bochs VBE registers present"))
		return false;
	dispi_write(DISPI_ENABLE, 0);
	dispi_write(DISPI_XRES, (u16)w);
	dispi_write(DISPI_YRES, (u16)h);
	dispi_write(DISPI_BPP, 32);
	dispi_write(DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB);
	/* Video on (the attribute controller's palette address source bit), as Linux's bochs
	 * driver does: without a VGA BIOS it is still clear from reset. */
	inb(VGA_IS1);
	outb(VGA_AR_INDEX, VGA_AR_PAS);
	return check(dispi_read(DISPI_XRES) == w && dispi_read(DISPI_YRES) == h &&
			 (dispi_read(DISPI_ENABLE) & DISPI_ENABLED),
		     "VBE mode %ux%ux32 set", w, h);
}
