"""Exercises every operation of the service through a client generated from its own
/openapi.json by openapi-python-client (scripts/fuzz.sh generates it and runs this).

Fails when an operation is missing from the client, when a documented answer does not
parse into its model, or when gender, sort_by, sort_order and event types are not enums.
"""

import enum
import sys
import uuid

from customer_api_client import Client
from customer_api_client.api.analytics import statistics
from customer_api_client.api.customers import (
    bulk_update_customers, create_customer, deactivate_customer, delete_customer_permanently,
    get_customer, get_customer_by_email, get_customer_by_username, list_customers,
    update_customer)
from customer_api_client.api.health import health
from customer_api_client.api.history import customer_events, events_feed
from customer_api_client.api.privacy import erase_customer, export_customer
from customer_api_client.api.locations import (
    available_cities, available_countries, available_states, customers_by_location,
    customers_by_tags)
from customer_api_client.api.search import search_customers
from customer_api_client.api.verification import record_login, verify_email, verify_phone
from customer_api_client.models import (
    BulkUpdateChanges, BulkUpdateRequest, CreateCustomerRequest, CustomerListResponse,
    CustomerResponse, EraseRequest, ErrorResponse, EventType, ExportResponse, FeedResponse,
    Gender, SearchRequest, SortBy, SortOrder, TimelineResponse, TombstoneResponse,
    UpdateCustomerRequest, ValidationErrorResponse)

calls = []


def check(name, response, model, status=200):
    """The answer has the expected status and parsed into `model`."""
    calls.append(name)
    if response.status_code != status or not isinstance(response.parsed, model):
        sys.exit(f"{name}: {response.status_code} {type(response.parsed).__name__}: "
                 f"{response.content[:300]!r}")
    return response.parsed


def main(base_url):
    for e in (Gender, SortBy, SortOrder, EventType):
        assert issubclass(e, enum.Enum), f"{e} is not an enum"
    client = Client(base_url=base_url, raise_on_unexpected_status=True)
    email = f"client.{uuid.uuid4().hex[:8]}@example.com"
    created = check("create_customer", create_customer.sync_detailed(
        client=client, body=CreateCustomerRequest(
            first_name="Ada", last_name="Lovelace", email=email, gender=Gender.FEMALE,
            city="London", country="UK", tags="math,poetry")), CustomerResponse, 200)
    assert created.gender is Gender.FEMALE, created.gender
    cid = created.customer_id
    check("get_customer", get_customer.sync_detailed(cid, client=client), CustomerResponse)
    check("get_customer_by_username",
          get_customer_by_username.sync_detailed(created.username, client=client),
          CustomerResponse)
    check("get_customer_by_email", get_customer_by_email.sync_detailed(email, client=client),
          CustomerResponse)
    page = check("list_customers", list_customers.sync_detailed(client=client, limit=5),
                 CustomerListResponse)
    assert page.customers, "the list is empty"
    check("search_customers", search_customers.sync_detailed(client=client, body=SearchRequest(
        query="ada", sort_by=SortBy.LAST_NAME, sort_order=SortOrder.ASC)), CustomerListResponse)
    updated = check("update_customer", update_customer.sync_detailed(
        cid, client=client, body=UpdateCustomerRequest(gender=Gender.OTHER, city="Paris")),
        CustomerResponse)
    assert updated.gender is Gender.OTHER and updated.full_address == "Paris, UK"
    report = check("bulk_update_customers", bulk_update_customers.sync_detailed(
        client=client, body=BulkUpdateRequest(
            customer_ids=[cid], updates=BulkUpdateChanges(notes="bulk"))), object)
    assert report.updated_count == 1, report
    for name, op in [("verify_email", verify_email), ("verify_phone", verify_phone),
                     ("record_login", record_login)]:
        check(name, op.sync_detailed(cid, client=client), object)
    check("statistics", statistics.sync_detailed(client=client), object)
    check("customers_by_tags", customers_by_tags.sync_detailed("math", client=client), object)
    found = check("customers_by_location", customers_by_location.sync_detailed(
        client=client, city="ari"), object)
    assert [c.customer_id for c in found.customers] == [cid], found
    check("available_countries", available_countries.sync_detailed(client=client), object)
    check("available_cities", available_cities.sync_detailed(client=client, country="UK"),
          object)
    check("available_states", available_states.sync_detailed(client=client), object)
    check("health", health.sync_detailed(client=client), object)
    invalid = check("create_customer (422)", create_customer.sync_detailed(
        client=client, body=CreateCustomerRequest(first_name="", last_name="x", email="no")),
        ValidationErrorResponse, 422)
    assert [d.type_ for d in invalid.detail] == ["string_too_short", "value_error"], invalid
    deleted = check("deactivate_customer", deactivate_customer.sync_detailed(cid, client=client),
                    object)
    assert deleted.message == "Customer deleted successfully", deleted
    check("delete_customer_permanently",
          delete_customer_permanently.sync_detailed(cid, client=client), object)
    timeline = check("customer_events", customer_events.sync_detailed(cid, client=client),
                     TimelineResponse)
    kinds = [e.type_ for e in reversed(timeline.events)]
    assert kinds[0] is EventType.CREATED and kinds[-1] is EventType.DELETED, kinds
    # An event is served once every older transaction on the server has ended: a few tries.
    for _ in range(10):
        feed = check("events_feed", events_feed.sync_detailed(client=client, limit=1000, wait=1),
                     FeedResponse)
        if feed.events:
            break
    assert feed.events and feed.next_cursor == feed.events[-1].cursor, feed
    other = check("create_customer", create_customer.sync_detailed(
        client=client, body=CreateCustomerRequest(
            first_name="Grace", last_name="Hopper", email=f"grace.{email}", country="USA")),
        CustomerResponse, 200)
    export = check("export_customer", export_customer.sync_detailed(
        other.customer_id, client=client), ExportResponse)
    assert export.customer.email == f"grace.{email}" and export.events, export
    tombstone = check("erase_customer", erase_customer.sync_detailed(
        other.customer_id, client=client, body=EraseRequest(reason="client check")),
        TombstoneResponse)
    assert tombstone.country == "USA" and tombstone.reason == "client check", tombstone
    gone = check("get_customer (410)", get_customer.sync_detailed(
        other.customer_id, client=client), ErrorResponse, 410)
    assert gone.detail == "Customer erased", gone
    operations = {c.split(" ")[0] for c in calls}
    assert len(operations) == 24, sorted(operations)
    print(f"generated client: {len(operations)} operations, {len(calls)} calls, all parsed")


if __name__ == "__main__":
    main(sys.argv[1])
