/* version.h - perch's version, the one place it is set. */
#ifndef PR_VERSION_H
#define PR_VERSION_H
#define PERCH_VERSION "0.1.0"
#endif
