/* The fixed layout of osio's PC platform: addresses, ports and IRQs that the
 * boot code's tables and the device models must agree on. */
#ifndef OSIO_PLATFORM_H
#define OSIO_PLATFORM_H

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define KiB (1ull << 10)

/* RAM below 4 GiB ends here when there is more than PCI_HOLE_THRESHOLD of
 * it; the rest starts at 4 GiB (the same split as QEMU's pc machine). */
#define LOWMEM_SPLIT 0xc0000000ull
#define PCI_HOLE_THRESHOLD 0xe0000000ull
#define HIGHMEM_START 0x100000000ull

/* Legacy areas inside the first MiB. */
#define EBDA_START 0x9fc00ull
#define VGA_START 0xa0000ull
#define VGA_END 0xc0000ull
#define SHADOW_START 0xc0000ull /* option ROMs and the BIOS, shadowed in RAM */
#define BIOS_AREA_START 0xe0000ull /* ACPI tables, RSDP */
#define BIOS_AREA_END 0x100000ull

/* KVM's own pages, just below the firmware at the top of 4 GiB. */
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ull
#define KVM_TSS_ADDR 0xfffbd000ull
#define KVM_PRIVATE_SIZE 0x4000ull /* identity map page + 3 TSS pages */

#define IOAPIC_ADDR 0xfec00000ull
#define LAPIC_ADDR 0xfee00000ull
#define IOAPIC_PINS 24

/* Ports and IRQs of the ISA devices. */
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD 0x64
#define PORT_RTC 0x70
#define PORT_DEBUG_EXIT 0xf4
#define PORT_FW_CFG 0x510
#define PORT_ACPI_PM 0x600 /* PM1a event (4), PM1a control (2), PM timer (4) */
#define ACPI_PM_EVT (PORT_ACPI_PM + 0)
#define ACPI_PM_CNT (PORT_ACPI_PM + 4)
#define ACPI_PM_TMR (PORT_ACPI_PM + 8)
#define ACPI_PM_LEN 12
#define ACPI_SLP_TYP_S5 0 /* PIIX4: SUS_TYP 000 is soft off */

#define IRQ_PIT 0
#define IRQ_KBD 1
#define IRQ_COM2 3
#define IRQ_COM1 4
#define IRQ_RTC 8
#define IRQ_SCI 9
#define IRQ_MOUSE 12

#endif
