"""Every hook Community calls, in one place.

Hooks are called with keyword arguments only, one implementation at a time, and only on
*enabled* plugins (an admin enables and disables plugins at run time; see ``docs/plugins.md``).
An implementation may take any subset of a hook's arguments. Wrapper implementations are not
supported.

- Event hooks (``community_*ed``) are called after the database transaction that made the
  change has committed: an implementation that raises is logged with its plugin's name, the
  plugin is shown as failing on the admin's plugin page, and the others still run.
- Gate hooks (``community_*_gate``) are asked before a write and may refuse it; one that
  raises refuses the write (fail closed).
- Filter hooks pass a value through every plugin in turn; one that raises is skipped.
- Core implements some hooks itself with ``trylast=True`` (the permission answer, the staff
  badges), so a plugin's implementation always gets the first word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flask import Flask

    from community.accounts.models import User
    from community.notifications import Channel, NotificationKind
    from community.plugins import Badge, Setting
    from community.search.backend import SearchBackend
    from community.spaces.models import Space
    from community.topics.models import Post, Topic, Vote

hookspec = pluggy.HookspecMarker("community")
hookimpl = pluggy.HookimplMarker("community")


# ---------------------------------------------------------------------------------------------
# Initialization hooks
# ---------------------------------------------------------------------------------------------


@hookspec(historic=True)
def community_app_created(app: Flask) -> None:
    """Called once by :func:`community.create_app` after core blueprints, extensions and
    CLI commands are set up. Register blueprints, CLI commands and Jinja filters here.

    Called for every installed plugin, **enabled or not**: routes can only be added while the
    app starts, so a plugin adds them here once and core makes them answer 404 while the
    plugin is disabled. Do nothing here that should only happen while the plugin is enabled.

    Historic: a plugin registered later still receives the call.

    :param app: the Flask application being created.
    :return: ignored.
    """


@hookspec
def community_plugin_settings() -> list[Setting] | None:
    """Declare the plugin's settings. Called once at start-up for every installed plugin; the
    admin's plugin page shows a form generated from the declarations, and the plugin reads
    the values with :func:`community.plugins.plugin_settings`.

    Only the implementing plugin's own settings count (each plugin declares its own).

    :return: a list of :class:`community.plugins.Setting`, or ``None`` for no settings.
    """


# ---------------------------------------------------------------------------------------------
# Event hooks: called after commit
# ---------------------------------------------------------------------------------------------


@hookspec
def community_user_registered(user: User) -> None:
    """Called after a new account was created (before its email is confirmed).

    :param user: the new user.
    :return: ignored.
    """


@hookspec
def community_topic_created(topic: Topic, post: Post) -> None:
    """Called after a topic and its opening post were published: at once when created, or
    when a moderator released a topic that a gate held for review.

    :param topic: the new topic (question, idea or discussion).
    :param post: its opening post.
    :return: ignored.
    """


@hookspec
def community_post_created(post: Post) -> None:
    """Called after an answer, reply or comment was published in an existing topic: at once
    when created, or when a moderator released a post that a gate held for review. Not called
    for a topic's opening post (see :func:`community_topic_created`).

    :param post: the new post; ``post.parent_id`` is set for comments.
    :return: ignored.
    """


@hookspec
def community_post_held(post: Post, reason: str) -> None:
    """Called after a new topic, answer, reply or comment was saved but held for review,
    because a gate returned :class:`community.plugins.Hold`. Only its author and the space's
    moderators see it; it counts nowhere; ``community_topic_created`` or
    ``community_post_created`` follow when a moderator releases it.

    :param post: the held post (``post.is_opening`` for a new topic; ``post.held_reason``).
    :param reason: the reason the gate gave.
    :return: ignored.
    """


@hookspec
def community_post_released(post: Post, actor: User) -> None:
    """Called after a moderator published a post held for review, just before the
    ``community_topic_created`` or ``community_post_created`` event for it.

    :param post: the post, now visible to everyone who may see its topic.
    :param actor: the moderator who released it.
    :return: ignored.
    """


@hookspec
def community_post_hidden(post: Post, actor: User | None, reason: str) -> None:
    """Called after a published post was taken out of view until a moderator decides
    (:func:`community.topics.services.hide_post`): only its author and the space's
    moderators see it, with the reason, and it counts nowhere. When it is the opening post,
    the whole topic is hidden.

    :param post: the hidden post (``post.held_at`` and ``post.hidden_at`` are set).
    :param actor: the moderator who hid it, or ``None`` when a plugin's rule did.
    :param reason: the reason given, shown to the author.
    :return: ignored.
    """


@hookspec
def community_post_unhidden(post: Post, actor: User) -> None:
    """Called after a moderator brought back a hidden post
    (:func:`community.topics.services.release_post`). The post was published before, so no
    ``community_post_created`` follows.

    :param post: the post, visible again.
    :param actor: the moderator.
    :return: ignored.
    """


@hookspec
def community_post_edited(post: Post, editor: User, previous_source: str) -> None:
    """Called after a post's text was changed.

    :param post: the post, with its new text.
    :param editor: who edited it (the author or a moderator).
    :param previous_source: the Markdown before the edit.
    :return: ignored.
    """


@hookspec
def community_topic_retagged(topic: Topic, editor: User, previous_tags: list[str]) -> None:
    """Called after a topic's tags were changed (by editing its opening post), whether or not
    its text changed too (then ``community_post_edited`` comes first).

    :param topic: the topic, with its new tags.
    :param editor: who changed them.
    :param previous_tags: the names of the tags it had before.
    :return: ignored.
    """


@hookspec
def community_post_deleted(post: Post, actor: User) -> None:
    """Called after a post was soft-deleted. When the post is a topic's opening post, the
    whole topic was deleted with it.

    :param post: the deleted post.
    :param actor: who deleted it.
    :return: ignored.
    """


@hookspec
def community_post_restored(post: Post, actor: User) -> None:
    """Called after a soft-deleted post was restored.

    :param post: the restored post.
    :param actor: who restored it.
    :return: ignored.
    """


@hookspec
def community_vote_cast(vote: Vote, post: Post, previous_value: int | None) -> None:
    """Called after a user voted on a post or changed the direction of a vote.

    :param vote: the vote (``vote.value`` is +1 or -1).
    :param post: the post voted on.
    :param previous_value: the value replaced by this vote, or ``None`` for a new vote.
    :return: ignored.
    """


@hookspec
def community_vote_retracted(user: User, post: Post, value: int) -> None:
    """Called after a user took back their vote on a post.

    :param user: the voter.
    :param post: the post.
    :param value: the value the retracted vote had.
    :return: ignored.
    """


@hookspec
def community_answer_accepted(
    topic: Topic, answer: Post, actor: User, previous_answer: Post | None
) -> None:
    """Called after an answer was accepted for a question.

    :param topic: the question.
    :param answer: the accepted answer.
    :param actor: who accepted it (the asker, staff or a moderator).
    :param previous_answer: the answer that was accepted before, or ``None``.
    :return: ignored.
    """


@hookspec
def community_answer_unaccepted(topic: Topic, answer: Post, actor: User) -> None:
    """Called after the acceptance of an answer was withdrawn without a replacement.

    :param topic: the question, now unsolved.
    :param answer: the answer that was accepted.
    :param actor: who withdrew it.
    :return: ignored.
    """


@hookspec
def community_user_role_changed(
    user: User, actor: User | None, previous_role: str, previous_staff: bool
) -> None:
    """Called after an admin changed a user's role or staff flag.

    :param user: the user, with the new ``role`` and ``is_staff``.
    :param actor: the admin who changed it, or ``None`` from the command line.
    :param previous_role: the role before the change.
    :param previous_staff: the staff flag before the change.
    :return: ignored.
    """


@hookspec
def community_topic_moved(topic: Topic, actor: User, previous_space: Space) -> None:
    """Called after a moderator moved a topic, with all its posts, to another space.

    :param topic: the topic, with its new ``space``.
    :param actor: the moderator who moved it (a moderator of both spaces).
    :param previous_space: the space the topic was in before.
    :return: ignored.
    """


@hookspec
def community_topic_merged(source: Topic, target: Topic, actor: User) -> None:
    """Called after a moderator merged a duplicate topic into another. Every post of
    ``source`` now belongs to ``target`` (its opening post as a reply), the votes on its
    opening post count for ``target``'s, and ``source`` is hidden like a deleted topic with
    ``merged_into_id`` set, its address leading to ``target``.

    :param source: the duplicate, now hidden and empty.
    :param target: the topic that received its posts.
    :param actor: the moderator who merged them.
    :return: ignored.
    """


@hookspec
def community_idea_votes_moved(
    source: Topic, target: Topic, actor: User, source_post: Post, target_post: Post
) -> None:
    """Called after the votes on the idea ``source`` were moved to ``target`` (its duplicate's
    original; see :func:`community.topics.services.transfer_idea_votes`): the votes that were
    on ``source_post`` (its opening post) are now on ``target_post``, except those of members
    who had voted both. ``source`` itself stays readable where it is.

    :param source: the duplicate idea.
    :param target: the idea it duplicates, which now has the votes.
    :param actor: who marked it a duplicate.
    :param source_post: ``source``'s opening post.
    :param target_post: ``target``'s opening post.
    :return: ignored.
    """


@hookspec
def community_topic_split(source: Topic, target: Topic, actor: User, post_ids: list[int]) -> None:
    """Called after a moderator moved some replies of a topic, with their comments, out into
    a new topic of the same kind and space; the earliest became its opening post.

    :param source: the topic the replies came from.
    :param target: the new topic.
    :param actor: the moderator.
    :param post_ids: ids of the replies moved (oldest first; the first is the new opening post).
    :return: ignored.
    """


@hookspec
def community_user_suspended(user: User, actor: User | None, reason: str) -> None:
    """Called after an account was suspended (``user.active`` is False): it cannot sign in,
    and a session it had is ended.

    :param user: the suspended user.
    :param actor: the admin or moderator who suspended it, or ``None`` (command line, rule).
    :param reason: the reason given, or ``""``.
    :return: ignored.
    """


@hookspec
def community_user_reinstated(user: User, actor: User | None) -> None:
    """Called after a suspended account was made active again.

    :param user: the user, active again.
    :param actor: who lifted the suspension, or ``None`` when it ran out on its own.
    :return: ignored.
    """


@hookspec
def community_audited(
    actor: User | None,
    action: str,
    target: Any,
    reason: str | None,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Called after a moderator's or admin's action was committed, by core for its own tools
    (``post.hide``, ``post.unhide``, ``post.release``, ``post.delete`` and ``post.edit`` of
    someone else's post, ``post.restore``, ``topic.pin``/``unpin``/``lock``/``unlock``,
    ``topic.move``, ``topic.merge``, ``topic.split``, ``topic.status``, ``user.role``,
    ``user.suspend``, ``user.reinstate``, ``space.create``, ``space.edit``,
    ``space.moderator_add``/``remove``, ``settings.edit``, ``plugin.enable``/``disable``,
    ``plugin.settings``) and by plugins for theirs through :func:`community.plugins.audit`.
    An audit-log plugin records them.

    :param actor: who acted, or ``None`` for an automatic rule.
    :param action: the dotted name of the action.
    :param target: the :class:`Post`, :class:`Topic`, :class:`User` or :class:`Space` acted
        on, a plugin's name (``plugin.*``), or ``None`` (site settings).
    :param reason: the reason the actor gave, or ``None``.
    :param before: the values the action changed, as they were (JSON-serializable).
    :param after: the same values afterwards.
    :return: ignored.
    """


@hookspec
def community_idea_status_changed(
    topic: Topic, actor: User, previous_status: str | None, note: str
) -> None:
    """Called after an idea's status changed (not when it was set to the value it had).
    Core only stores the status; the workflow around it belongs to a plugin.

    :param topic: the idea, with its new ``status``.
    :param actor: who changed it (staff or a moderator of the space).
    :param previous_status: the status before the change.
    :param note: what the actor said about the change (Markdown, e.g. an official
        response), or ``""``. Core's notification emails quote it to the idea's followers.
    :return: ignored.
    """


@hookspec
def community_demo_generated(seed: int) -> None:
    """Called by ``community demo`` after it filled an empty site with demo content (and
    enabled the plugins named with ``--enable-plugin``): add the plugin's own demo data,
    e.g. a few flags in a moderation queue, through its services.

    :param seed: the demo's random seed; use it so that the same seed gives the same data.
    :return: ignored.
    """


@hookspec
def community_search_deflected(user: User, topic: Topic, query: str) -> None:
    """Called when a member who was writing a new topic followed one of the similar topics
    suggested under the title instead of posting: a support question that did not need to be
    asked. Called once per suggestion followed (the link is signed and counted once).

    :param user: the member who was asking.
    :param topic: the existing topic they went to read.
    :param query: the title they had typed.
    :return: ignored.
    """


# ---------------------------------------------------------------------------------------------
# Gate hooks: asked before a write
# ---------------------------------------------------------------------------------------------


@hookspec
def community_post_gate(
    user: User,
    action: str,
    space: Space,
    topic: Topic | None,
    post: Post | None,
    title: str | None,
    body: str,
) -> str | None:
    """Asked before a topic, answer, reply or comment is written or edited; a plugin may
    refuse it (e.g. a word filter, a crisis read-only mode) or hold it for a moderator's
    review (e.g. a newcomer's first posts).

    Every implementation is asked; the first refusal wins and nothing is written. Without a
    refusal, the first :class:`community.plugins.Hold` wins: the post is saved but only its
    author and the space's moderators see it until a moderator publishes it (see
    :func:`community_post_held`). An edit cannot be held: a ``Hold`` on ``post.edit`` refuses
    the edit. An implementation that raises refuses the write with a generic message (fail
    closed) and is logged with its plugin's name.

    :param user: who is writing.
    :param action: ``"topic.create"``, ``"post.create"``, ``"comment.create"`` or
        ``"post.edit"``.
    :param space: the space written in.
    :param topic: the topic, or ``None`` when one is being created.
    :param post: the post being edited, or the post commented on; ``None`` otherwise.
    :param title: the topic's title for ``topic.create`` and for edits of an opening post.
    :param body: the Markdown the user wrote.
    :return: ``None`` to allow; a translated sentence to refuse, shown to the user beside
        what they typed; a :class:`community.plugins.Hold` to hold it for review.
    """


@hookspec
def community_vote_gate(user: User, post: Post, value: int) -> str | None:
    """Asked before a vote is cast, changed or retracted; a plugin may refuse it.

    Every implementation is asked; the first refusal wins. An implementation that raises
    refuses the vote (fail closed).

    :param user: the voter.
    :param post: the post voted on.
    :param value: +1 or -1 (the value clicked; clicking the current vote retracts it).
    :return: ``None`` to allow; a translated sentence to refuse.
    """


@hookspec
def community_registration_gate(username: str, email: str, address: str) -> str | None:
    """Asked before a new account is created from the registration form, once core's own
    checks passed (the name and email are free); a plugin may refuse it (e.g. too many
    sign-ups from one address, a blocked email domain). The first refusal wins; one that
    raises refuses (fail closed).

    :param username: the name asked for.
    :param email: the email address given.
    :param address: the visitor's IP address.
    :return: ``None`` to allow; a translated sentence to refuse, shown above the form.
    """


# ---------------------------------------------------------------------------------------------
# Filter hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def community_suspended_message(message: str, user: User) -> str | None:
    """Change what a suspended member reads when they try to sign in (e.g. add the reason
    and when the suspension ends). Implementations run in turn.

    :param message: the sentence so far (core's: "This account is suspended.").
    :param user: the suspended user.
    :return: the new sentence, or ``None`` to leave it.
    """


@hookspec
def community_post_html(html: str, source: str) -> str | None:
    """Change the HTML rendered from a post's Markdown before it is stored (e.g. link
    product codes or ticket numbers; core links @mentions itself). Implementations run in
    turn, each receiving the previous one's result; the final HTML is sanitized again, so a
    filter cannot add scripts.

    :param html: the sanitized HTML so far.
    :param source: the Markdown source of the post.
    :return: the new HTML, or ``None`` to leave it as it is.
    """


@hookspec(firstresult=True)
def community_permission(user: Any, action: str, obj: Any) -> bool | None:
    """Answer "may ``user`` do ``action`` on ``obj``?". Asked for every permission check of
    every view and listing, so answer quickly (cache per request on ``flask.g`` if you query).

    Stops at the first non-``None`` result. Core answers last (``trylast``), so a plugin can
    grant or deny before it; return ``None`` to leave the decision to others. An
    implementation that raises is recorded as failing and counts as ``None``.

    :param user: a :class:`~community.accounts.models.User` or the anonymous visitor.
    :param action: one of :data:`community.permissions.ACTIONS`.
    :param obj: the space, topic, post or user acted on, or ``None``.
    :return: ``True`` to allow, ``False`` to deny, ``None`` for no opinion.
    """


@hookspec
def community_idea_status_label(status: str) -> str | None:
    """Name an idea status, in the current language (e.g. the ideation plugin's workflow:
    ``"under_review"`` → "Under review"). The first answer wins; without one, core names the
    default statuses itself and shows any other key as written.

    :param status: the status key stored on the topic.
    :return: the name to show, or ``None``.
    """


@hookspec
def community_user_badges(users: list[User], space: Space | None) -> dict[int, list[Badge]] | None:
    """Give the badges shown next to users' names (on posts, comments and profiles). Called
    once per page for all the users it shows, so one query can answer for all of them.
    Every implementation's badges are shown, core's own (staff, moderator, admin) included.

    :param users: the users whose names the page shows.
    :param space: the space the page is about (a topic's space on the topic's page, the
        space on its own page), or ``None`` on pages about no one space (the home page,
        profiles, search). A plugin may give badges that belong to that space, e.g.
        "Expert · Routers"; an implementation that does not need it may leave it out of its
        parameters.
    :return: a dict from user id to a list of :class:`community.plugins.Badge` (users left
        out get none from this plugin), or ``None``.
    """


@hookspec
def community_user_trust(users: list[User]) -> dict[int, int] | None:
    """Say how far the site trusts users, as a level from 0 (new) upwards, e.g. from
    gamification levels; other plugins use it to weigh what users do (a moderation plugin
    weighs flags by it). Read it with :func:`community.plugins.trust_levels`: every
    implementation is asked and the highest level wins. Called with all the users at once.

    :param users: the users to rate.
    :return: a dict from user id to level (users left out: no opinion), or ``None``.
    """


# ---------------------------------------------------------------------------------------------
# Notification hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def community_notification_kinds() -> list[NotificationKind] | None:
    """Declare the plugin's kinds of notification (e.g. "an idea you voted for shipped").
    Users choose per kind how they hear about it on their notification settings page; the
    plugin sends them with :func:`community.notifications.notify`. Asked whenever core needs
    the list, so return the same constant list every time. A kind whose name is taken is
    ignored and the plugin recorded as failing.

    :return: a list of :class:`community.notifications.NotificationKind`, or ``None``.
    """


@hookspec
def community_notification_channels() -> list[Channel] | None:
    """Give delivery channels besides the inbox and email (e.g. a webhook, a chat message).
    The worker hands every notification a user receives to each channel's ``deliver``,
    retrying with backoff when it raises. Asked whenever core needs the list.

    :return: a list of :class:`community.notifications.Channel`, or ``None``.
    """


# ---------------------------------------------------------------------------------------------
# Service hooks: a plugin provides a part of core
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def community_search_backend(app: Flask) -> SearchBackend | None:
    """Provide the search backend (e.g. one for an external search server). Asked whenever
    core searches or the worker writes the index; return the same object every time.
    Core's own answer (``trylast``) is the backend ``SEARCH_BACKEND`` names: ``whoosh``
    (default) or ``postgresql``. Run ``community search reindex`` after switching.

    The backend implements :class:`community.search.backend.SearchBackend`: it stores and
    matches documents; core filters hits by permission again before showing them.

    :param app: the Flask application.
    :return: a :class:`~community.search.backend.SearchBackend`, or ``None`` to leave it to
        the next plugin (finally core).
    """


# ---------------------------------------------------------------------------------------------
# Template hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def community_template_slot(slot: str, context: dict[str, Any]) -> str | None:
    """Give an HTML fragment for a named slot of a page. All fragments are collected and
    shown in plugin order. Slot names are listed in :data:`community.plugins.SLOTS`; templates
    that name an unknown slot raise. A fragment that raises is left out and the plugin is
    recorded as failing; the page still renders.

    :param slot: the slot's name, e.g. ``"topic.sidebar"``.
    :param context: what the page passes to the slot (e.g. ``topic``, ``post``, ``user``).
    :return: trusted HTML (escape user data yourself, e.g. with ``render_template``), or
        ``None`` for nothing.
    """
