async def test_health_and_schema(api):
    r = await api.client.get("/health")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    r = await api.client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert "/households/import" in r.json()["paths"]


async def test_login_and_read_household(api):
    hid = await api.household_id("621223100201-001")
    r = await api.as_("cunwei", "GET", f"/households/{hid}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "poor" and "*" in body["head_id_number"]
