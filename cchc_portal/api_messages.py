"""The messages of Django REST framework an API caller meets, for the
translation catalogue.

DRF ships twenty Vietnamese strings; the rest of its messages (validation,
authentication, throttling, pagination) would reach a Vietnamese caller in
English inside the error body. Listed here, they are extracted by
makemessages into locale/ and translated there; Django reads the project's
LOCALE_PATHS before the apps' catalogues, so DRF's own gettext finds them.
Nothing imports this module at run time: the strings only have to be in the
source. A test checks each is still one of DRF's messages."""

from django.utils.translation import gettext_noop, ngettext_lazy

MESSAGES = (
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop("A page number within the paginated result set."),
    gettext_noop("A server error occurred."),
    gettext_noop("A valid integer is required."),
    gettext_noop("A valid number is required."),
    gettext_noop("Authentication credentials were not provided."),
    gettext_noop("Could not satisfy the request Accept header."),
    gettext_noop("Date has wrong format. Use one of these formats instead: {format}."),
    gettext_noop(
        "Datetime has wrong format. Use one of these formats instead: {format}."
    ),
    gettext_noop("Datetime value out of range."),
    gettext_noop(
        "Ensure that there are no more than {max_decimal_places} decimal places."
    ),
    gettext_noop("Ensure that there are no more than {max_digits} digits in total."),
    gettext_noop(
        "Ensure that there are no more than {max_whole_digits} digits before the decimal point."  # noqa: E501 - DRF's message, as it is
    ),
    gettext_noop("Ensure this field has at least {min_length} characters."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Expected a date but got a datetime."),
    gettext_noop("Expected a datetime but got a date."),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop('Expected a dictionary of items but got type "{input_type}".'),
    gettext_noop("Incorrect authentication credentials."),
    gettext_noop("Incorrect type. Expected pk value, received {data_type}."),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop("Invalid input."),
    gettext_noop("Invalid page."),
    gettext_noop('Invalid pk "{pk_value}" - object does not exist.'),
    gettext_noop("Invalid token header. No credentials provided."),
    gettext_noop("Invalid token header. Token string should not contain spaces."),
    gettext_noop(
        "Invalid token header. Token string should not contain invalid characters."
    ),
    gettext_noop("Invalid token."),
    gettext_noop("Invalid value."),
    gettext_noop("Malformed request."),
    gettext_noop('Method "{method}" not allowed.'),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("No file was submitted."),
    gettext_noop("Not a valid string."),
    gettext_noop("Not found."),
    gettext_noop("Request was throttled."),
    gettext_noop("String value too large."),
    gettext_noop(
        "The submitted data was not a file. Check the encoding type on the form."
    ),
    gettext_noop("The submitted file is empty."),
    gettext_noop("The fields {field_names} must make a unique set."),
    gettext_noop("This field is required."),
    gettext_noop("This field may not be blank."),
    gettext_noop("This field may not be null."),
    gettext_noop("This field must be unique."),
    gettext_noop("This list may not be empty."),
    gettext_noop("Time has wrong format. Use one of these formats instead: {format}."),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop("User inactive or deleted."),
    gettext_noop("Value must be valid JSON."),
    gettext_noop("Which field to use when ordering the results."),
    gettext_noop("You do not have permission to perform this action."),
)

PLURAL_MESSAGES = (
    ngettext_lazy(
        "Expected available in {wait} second.",
        "Expected available in {wait} seconds.",
        "wait",
    ),
)
