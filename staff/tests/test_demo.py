"""Demo staff per role for `make run`: only in demo mode, never with DEBUG off."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo_staff
from staff.tests.conftest import LOGIN, sign_in_password

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]
DEMO_NAMES = {account.username for account in DEMO_ACCOUNTS}


@pytest.fixture
def demo_mode(settings):
    settings.DEBUG = True
    settings.LEERID_DEMO = True


def demo_users():
    return get_user_model().objects.filter(username__in=DEMO_NAMES)


def test_it_creates_no_demo_staff_with_debug_off(settings):
    """With DEBUG off, seed_demo creates no staff and the function itself refuses."""
    settings.DEBUG = False
    settings.LEERID_DEMO = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert not demo_users().exists()
    assert "No demo staff" in out.getvalue()
    with pytest.raises(ImproperlyConfigured):
        seed_demo_staff()
    assert not demo_users().exists()


def test_it_creates_one_enrolled_account_per_role_in_demo_mode(demo_mode):
    """Three accounts, each in its group, with a confirmed TOTP device; a rerun changes nothing."""
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    users = {user.username: user for user in demo_users()}
    assert set(users) == DEMO_NAMES
    for account in DEMO_ACCOUNTS:
        user = users[account.username]
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [account.group]
        assert user.check_password(DEMO_PASSWORD)
        device = TOTPDevice.objects.get(user=user)
        assert device.confirmed and device.key == account.totp_key


def test_it_prints_a_code_that_signs_a_demo_account_in(client, demo_mode):
    """`manage.py demo_totp demo-dpo` prints the code that passes the second factor."""
    seed_demo_staff()
    out = io.StringIO()
    call_command("demo_totp", "demo-dpo", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    sign_in_password(client, "demo-dpo", DEMO_PASSWORD)
    assert client.post("/admin/sign-in/code/", {"code": code})["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_it_prints_codes_for_demo_accounts_only(settings, demo_mode):
    """No code for an account that is not a demo one, nor outside demo mode."""
    with pytest.raises(CommandError):
        call_command("demo_totp", "real-staff-member", stdout=io.StringIO())
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_totp", "demo-dpo", stdout=io.StringIO())


def test_it_names_the_demo_accounts_on_the_login_page_in_demo_mode_only(client, settings):
    """The login page names the accounts and the command for a code only in demo mode."""
    settings.DEBUG = True
    settings.LEERID_DEMO = True
    content = client.get(LOGIN).content.decode()
    assert "demo-support" in content and "demo_totp" in content and DEMO_PASSWORD in content
    settings.DEBUG = False
    content = client.get(LOGIN).content.decode()
    assert "demo-support" not in content and DEMO_PASSWORD not in content
