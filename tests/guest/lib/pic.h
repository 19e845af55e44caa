/* The 8259A pair: remapped to vectors 0x20-0x2f, lines masked until a
 * program unmasks them, EOI, and the spurious IRQ 7/15 check. */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

#include "types.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

/* Initializes both PICs (edge triggered, cascade on IRQ 2, every line
 * masked) and puts the boot CPU's local APIC in virtual-wire mode (LINT0 =
 * ExtINT), as a PC BIOS does, so 8259 interrupts reach the CPU whatever
 * state the loader left the local APIC in. */
void pic_init(void);
void pic_mask(unsigned irq);
void pic_unmask(unsigned irq);
void pic_eoi(unsigned irq);
/* True for a spurious IRQ 7 or 15 (the line's in-service bit is clear); the
 * master then still needs an EOI for a spurious 15, which this sends. */
bool pic_spurious(unsigned irq);
/* The in-service and request registers, master in bits 0-7. */
u16 pic_isr(void);
u16 pic_irr(void);

#endif
