/* PCI configuration mechanism #1: the address register at 0xCF8 selects a dword, the data
 * register at 0xCFC..0xCFF reads or writes bytes of it. */
#include "pci.h"
#include "io.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc

static void select(struct pci_addr a, u8 off)
{
	outl(PCI_CONFIG_ADDRESS, 0x80000000u | (u32)a.bus << 16 | (u32)(a.dev & 31) << 11 |
				     (u32)(a.fn & 7) << 8 | (off & 0xfc));
}

u32 pci_read32(struct pci_addr a, u8 off)
{
	select(a, off);
	return inl(PCI_CONFIG_DATA);
}

u16 pci_read16(struct pci_addr a, u8 off)
{
	select(a, off);
	return inw(PCI_CONFIG_DATA + (off & 2));
}

u8 pci_read8(struct pci_addr a, u8 off)
{
	select(a, off);
	return inb(PCI_CONFIG_DATA + (off & 3));
}

void pci_write32(struct pci_addr a, u8 off, u32 v)
{
	select(a, off);
	outl(PCI_CONFIG_DATA, v);
}

void pci_write16(struct pci_addr a, u8 off, u16 v)
{
	select(a, off);
	outw(PCI_CONFIG_DATA + (off & 2), v);
}
