// Debian builds libxml2 with ICU; its headers then pull in ICU's, which clash with
// Foundation's copy on clean builds. mirrord never uses libxml2's ICU entry points.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
