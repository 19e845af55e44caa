/* The local APIC at its default address 0xFEE00000 (Intel SDM vol. 3,
 * chapter 11), reached with paging off. */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include "types.h"

#define LAPIC_BASE 0xfee00000u

#define LAPIC_ID	0x020
#define LAPIC_VERSION	0x030
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360

#define ICR_INIT	 0x00000500
#define ICR_STARTUP	 0x00000600
#define ICR_PENDING	 0x00001000 /* delivery status */
#define ICR_ASSERT	 0x00004000
#define ICR_LEVEL	 0x00008000
#define ICR_ALL_BUT_SELF 0x000c0000

u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
/* This CPU's APIC id (ID register bits 31-24). */
u32 lapic_id(void);
/* Software-enables the local APIC (spurious vector 0xff). */
void lapic_enable(void);
/* Software-enables it with LINT0 = ExtINT and LINT1 = NMI (virtual wire). */
void lapic_virtual_wire(void);
/* Writes the ICR and waits (up to ~100 ms) for the delivery status to
 * clear; false if it never did. */
bool lapic_send_ipi(u32 dest_apic_id, u32 icr_lo);

#endif
