/* The Generation 1 virtual motherboard: which device models a VM gets and
 * where (i440FX, PIIX3 with IDE and PM, VGA, the ISA devices, serial
 * ports), built from a vm_spec; and the state a BIOS leaves the chipset in,
 * for kernels booted without one. */
#ifndef OSIO_PC_H
#define OSIO_PC_H

#include "hypervisor/machine.h"
#include "hypervisor/vmspec.h"

struct pc_options {
	const char *firmware_log; /* debug console output of the firmware, or NULL */
	bool firmware;		  /* booting through the BIOS (else direct kernel boot) */
};

/* PCI slots 0-2: the host bridge, the PIIX3 functions, the display adapter
 * (kept free without one, so that nothing moves). */
#define PC_FIRST_FREE_SLOT 3

/* Creates every device of the machine. Logs and returns -errno. */
int pc_create(struct machine *m, const struct vm_spec *spec, const struct pc_options *opt);

/* For a directly booted kernel, at every start: shadow RAM read-write at
 * 0xC0000-0xFFFFF, IDE decoding its legacy ports and the ACPI PM block at
 * 0x600, as SeaBIOS leaves them. */
void pc_firmware_handover(struct machine *m);

/* The PCI slot of the spec's virtio disk i (for the firmware's boot
 * order). */
unsigned pc_virtio_disk_slot(const struct vm_spec *spec, unsigned i);

/* The PCI slot of the spec's network adapter i: after the virtio disks. */
unsigned pc_nic_slot(const struct vm_spec *spec, unsigned i);

/* Whether the boot order names network and the VM has an adapter: the
 * firmware's boot order lists /pci@i0cf8/ethernet@SLOT (pc_nic_slot) for
 * each adapter at network's place. Whether the adapters then get iPXE's
 * boot ROM is pc.c's rule: when network is named in [boot] order (a missing
 * ROM is an error naming ipxe-qemu), or only by the default order and KVM is
 * hardware-backed (under kvm_pvm iPXE stops early: no ROMs then, so that the
 * default order still boots DVDs and disks). */
bool pc_network_boot(const struct vm_spec *spec);

/* Whether a spec boots through the firmware. */
bool pc_boots_firmware(const struct vm_spec *spec);

#endif
