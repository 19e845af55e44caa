/* The interrupt descriptor table of the guest programs: 256 interrupt
 * gates into stubs (isr.S) that call a C handler per vector. CPU exceptions
 * end the program with a FAIL line; IRQ vectors of the 8259 pair get their
 * EOI after the handler. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include "types.h"

/* Where the 8259 pair is remapped to (pic.c). */
#define IRQ_VECTOR_BASE 0x20
#define SPURIOUS_VECTOR 0xff /* the local APIC's spurious vector */

struct isr_frame {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax; /* pushal */
	u32 vector, error;
	u32 eip, cs, eflags; /* pushed by the CPU */
};

typedef void (*vector_handler)(struct isr_frame *f);
typedef void (*irq_handler)(unsigned irq);

/* Fills and loads the IDT on this CPU (the table is shared, so an AP only
 * needs idt_load()). */
void idt_init(void);
void idt_load(void);
/* A handler for any vector (e.g. a local APIC vector); NULL removes it. */
void idt_set_handler(unsigned vector, vector_handler fn);
/* A handler for 8259 line irq (0-15); the EOI is sent after it returns. */
void irq_set_handler(unsigned irq, irq_handler fn);
/* Interrupts that arrived with no handler (counted, acknowledged). */
extern volatile u32 unexpected_interrupts;

/* Called by the stubs. */
void isr_dispatch(struct isr_frame *f);

#endif
