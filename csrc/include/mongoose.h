/* Drop-in name for programs written against Mongoose 6: the whole API is in mgio.h. */
#ifndef MONGOOSE_HEADER_INCLUDED
#define MONGOOSE_HEADER_INCLUDED
#include "mgio.h"
#endif
