DROP TABLE article_tags; DROP TABLE articles;
