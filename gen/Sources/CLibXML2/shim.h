/* The parts of libxml2 abigen uses: the tree parser and XSD validation. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
