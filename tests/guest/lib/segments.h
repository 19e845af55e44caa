/* The flat GDT of the guest programs (lib/entry.S), for C and assembly. */
#ifndef GUEST_SEGMENTS_H
#define GUEST_SEGMENTS_H

#define SEG_CODE    0x08
#define SEG_DATA    0x10
#define GDT_ENTRIES 3
#define GDT_LIMIT   (GDT_ENTRIES * 8 - 1)

#endif
