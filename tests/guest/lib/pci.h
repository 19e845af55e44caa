/* PCI configuration space through mechanism #1 (ports 0xCF8/0xCFC, PCI Local Bus
 * Specification 3.0, 3.2.2.3.2) for the guest programs. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include "types.h"

#define PCI_VENDOR_ID	   0x00
#define PCI_DEVICE_ID	   0x02
#define PCI_COMMAND	   0x04
#define PCI_CLASS_REVISION 0x08
#define PCI_BAR0	   0x10
#define PCI_BAR4	   0x20

#define PCI_COMMAND_IO	   0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004

/* A function's address: bus, device (0-31), function (0-7). */
struct pci_addr {
	u8 bus, dev, fn;
};

u32 pci_read32(struct pci_addr a, u8 off);
u16 pci_read16(struct pci_addr a, u8 off);
u8 pci_read8(struct pci_addr a, u8 off);
void pci_write32(struct pci_addr a, u8 off, u32 v);
void pci_write16(struct pci_addr a, u8 off, u16 v);

#endif
