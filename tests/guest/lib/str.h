/* String and memory helpers of the guest test library: the ones both test guests share. */
#ifndef GUEST_STR_H
#define GUEST_STR_H

#include "../common/str.h"

#endif
